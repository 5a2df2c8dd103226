import Glibc

/// Decodes bytes in a named charset (utf-8, us-ascii, iso-8859-*, windows-125*, gbk, gb2312, gb18030, big5, shift_jis, euc-kr, ...) to a String; nil for an unknown charset.
public enum MailCharset {
    public static func decode(_ bytes: [UInt8], charset: String) -> String? {
        guard let name = normalizedName(charset) else { return nil }
        if utf8Names.contains(name) {
            return String(decoding: bytes, as: UTF8.self)
        }
        if asciiNames.contains(name) {
            // Mail labelled us-ascii often carries undeclared 8-bit UTF-8; ASCII is a subset, so nothing valid changes.
            return String(decoding: bytes, as: UTF8.self)
        }
        if bytes.allSatisfy({ $0 < 0x80 }), !asciiIncompatible(name) {
            guard canOpen(candidates(for: name)) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
        var best: (text: String, invalid: Int)?
        for candidate in candidates(for: name) {
            guard let result = convert(bytes, from: candidate) else { continue }
            if result.invalid == 0 { return result.text }
            if best == nil || result.invalid < best!.invalid { best = result }
        }
        return best?.text
    }

    /// The charset decoded when the declared one is unknown: most unlabelled or mislabelled mail today is UTF-8.
    static func decodeOrUTF8(_ bytes: [UInt8], charset: String) -> String {
        decode(bytes, charset: charset) ?? String(decoding: bytes, as: UTF8.self)
    }

    private static let utf8Names: Set<String> = ["utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"]
    private static let asciiNames: Set<String> = ["us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "646", "cp367"]

    /// Names iconv does not know, or knows under another name, as mailers write them.
    private static let aliases: [String: String] = [
        "ks_c_5601-1987": "CP949", "ks_c_5601": "CP949", "x-windows-949": "CP949", "windows-949": "CP949",
        "x-gbk": "GBK", "cp936": "GBK", "ms936": "GBK", "windows-936": "GBK", "gb_2312-80": "GB2312", "csgb2312": "GB2312",
        "x-euc-cn": "GB2312", "euc-cn": "GB2312", "x-gb2312": "GB2312",
        "x-sjis": "SHIFT_JIS", "sjis": "SHIFT_JIS", "ms_kanji": "SHIFT_JIS", "windows-31j": "CP932", "x-ms-cp932": "CP932",
        "iso-8859-8-i": "ISO-8859-8", "iso-8859-6-i": "ISO-8859-6", "unicode-1-1-utf-7": "UTF-7",
        "x-mac-roman": "MACINTOSH", "macintosh": "MACINTOSH", "x-big5": "BIG5", "big5-hkscs": "BIG5-HKSCS",
        // Browsers read Latin-1 as Windows-1252 too: its C1 controls never appear in mail, the curly quotes often do.
        "iso-8859-1": "WINDOWS-1252", "iso8859-1": "WINDOWS-1252", "iso_8859-1": "WINDOWS-1252", "latin1": "WINDOWS-1252",
        "l1": "WINDOWS-1252",
    ]

    /// Tried when the declared charset leaves bytes undecoded: senders label text with the common name of a family
    /// while writing characters only a larger member has (GBK in "gb2312", Windows-31J in "shift_jis").
    private static let fallbacks: [String: [String]] = [
        "GB2312": ["GB18030"], "GBK": ["GB18030"], "BIG5": ["BIG5-HKSCS"], "SHIFT_JIS": ["CP932"], "EUC-KR": ["CP949"],
        "WINDOWS-1252": ["ISO-8859-1"],
    ]

    /// Lowercased and stripped of quotes, a language suffix (RFC 2231 `utf-8*en`) and anything iconv would read as options.
    static func normalizedName(_ charset: String) -> String? {
        var name = charset.trimmingASCIIWhitespace().lowercased()
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
        if let star = name.firstIndex(of: "*") { name = String(name[..<star]) }
        name = name.trimmingASCIIWhitespace()
        guard !name.isEmpty, name.utf8.count <= 40,
              name.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                                      || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "+") })
        else { return nil }
        return name
    }

    private static func candidates(for name: String) -> [String] {
        let primary = aliases[name] ?? name.uppercased()
        return [primary] + (fallbacks[primary] ?? [])
    }

    /// Charsets in which an ASCII byte may not stand for itself, so the ASCII shortcut does not apply.
    private static func asciiIncompatible(_ name: String) -> Bool {
        name.hasPrefix("utf-16") || name.hasPrefix("utf-32") || name.hasPrefix("ucs") || name == "utf-7"
            || name == "unicode-1-1-utf-7" || name.hasPrefix("iso-2022") || name.hasPrefix("hz") || name.hasPrefix("ibm")
            || name.hasPrefix("cp0") || name.hasPrefix("ebcdic") || name == "cp037" || name == "cp500"
    }

    private static func canOpen(_ names: [String]) -> Bool {
        for name in names {
            let descriptor = iconv_open("UTF-8", name)
            if isValid(descriptor) {
                iconv_close(descriptor)
                return true
            }
        }
        return false
    }

    private static func isValid(_ descriptor: iconv_t?) -> Bool {
        guard let descriptor else { return false }
        return Int(bitPattern: descriptor) != -1
    }

    /// nil when iconv does not know the charset. An invalid or truncated sequence becomes U+FFFD and decoding
    /// goes on after its first byte, so one bad byte costs one character rather than the message.
    static func convert(_ bytes: [UInt8], from charset: String) -> (text: String, invalid: Int)? {
        let descriptor = iconv_open("UTF-8", charset)
        guard isValid(descriptor), let descriptor else { return nil }
        defer { iconv_close(descriptor) }

        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        let chunkSize = 16 * 1024
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        var invalid = 0
        var input = bytes
        var chunk = [UInt8](repeating: 0, count: chunkSize)

        input.withUnsafeMutableBufferPointer { inputBuffer in
            chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                guard let inputBase = inputBuffer.baseAddress, let chunkBase = chunkBuffer.baseAddress else { return }
                let chunkStart = UnsafeMutableRawPointer(chunkBase).assumingMemoryBound(to: CChar.self)
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inputBase).assumingMemoryBound(to: CChar.self)
                var inLeft = inputBuffer.count
                // Every pass consumes input, produces output or skips a byte; the bound only guards against an iconv
                // that does none of these.
                var passes = 0
                let maxPasses = 2 * inputBuffer.count + 16

                func drain(_ outPointer: UnsafeMutablePointer<CChar>?) {
                    guard let outPointer else { return }
                    let produced = outPointer - chunkStart
                    if produced > 0 { output.append(contentsOf: UnsafeBufferPointer(start: chunkBase, count: produced)) }
                }

                while inLeft > 0, passes < maxPasses {
                    passes += 1
                    var outPointer: UnsafeMutablePointer<CChar>? = chunkStart
                    var outLeft = chunkSize
                    let result = iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
                    let error = errno
                    drain(outPointer)
                    if result != -1 { continue }
                    switch error {
                    case E2BIG:
                        continue
                    case EINVAL:
                        // A sequence cut off by the end of the input.
                        invalid += 1
                        output.append(contentsOf: replacement)
                        inLeft = 0
                    default:
                        invalid += 1
                        output.append(contentsOf: replacement)
                        inPointer = inPointer.map { $0 + 1 }
                        inLeft -= 1
                    }
                }
                // Stateful charsets (ISO-2022-JP) may owe a shift back to the initial state.
                var outPointer: UnsafeMutablePointer<CChar>? = chunkStart
                var outLeft = chunkSize
                _ = iconv(descriptor, nil, nil, &outPointer, &outLeft)
                drain(outPointer)
            }
        }
        return (String(decoding: output, as: UTF8.self), invalid)
    }
}

func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
}

extension String {
    /// Only ASCII space, tab, CR and LF: header syntax knows no other whitespace, and Foundation's set would also
    /// strip characters a display name may legitimately end with.
    func trimmingASCIIWhitespace() -> String {
        self[...].trimmingASCIIWhitespace()
    }
}

extension Substring {
    /// On UTF-8 bytes, where the whitespace is single bytes and no grapheme breaking is needed.
    func trimmingASCIIWhitespace() -> String {
        let bytes = utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isASCIIWhitespace(bytes[start]) { start = bytes.index(after: start) }
        while end > start, isASCIIWhitespace(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

func isASCIIWhitespace(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
}

func isASCIIWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
}
