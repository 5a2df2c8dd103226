import Testing
@testable import MailParsing

@Suite struct DecodingTests {
    struct CharsetCase: Sendable, CustomTestStringConvertible {
        let charset: String
        let hexBytes: String
        let expected: String?
        var testDescription: String { charset }
    }

    /// Bytes from Python's codecs (`"…".encode(charset).hex()`).
    static let charsets: [CharsetCase] = [
        CharsetCase(charset: "utf-8", hexBytes: "c3a9e282ac", expected: "é€"),
        CharsetCase(charset: "UTF8", hexBytes: "c3a9", expected: "é"),
        CharsetCase(charset: "us-ascii", hexBytes: "68656c6c6f", expected: "hello"),
        CharsetCase(charset: "\"ISO-8859-15\"", hexBytes: "4772f6df65", expected: "Größe"),
        CharsetCase(charset: "windows-1252", hexBytes: "8020756e6420935a6974617494", expected: "€ und “Zitat”"),
        CharsetCase(charset: "koi8-r", hexBytes: "f0d2c9d7c5d4", expected: "Привет"),
        CharsetCase(charset: "windows-1251", hexBytes: "cff0e8e2e5f2", expected: "Привет"),
        CharsetCase(charset: "iso-8859-7", hexBytes: "c5ebebe7ede9eadc", expected: "Ελληνικά"),
        CharsetCase(charset: "gbk", hexBytes: "b7fecef1c6f7e5b4bbfac1cb", expected: "服务器宕机了"),
        CharsetCase(charset: "gb2312", hexBytes: "b7fecef1c6f7e5b4bbfac1cb", expected: "服务器宕机了"),
        CharsetCase(charset: "GB18030", hexBytes: "95328236", expected: "𠀀"),
        CharsetCase(charset: "big5", hexBytes: "a6f8aa41beb9b7edbef7", expected: "伺服器當機"),
        CharsetCase(charset: "shift_jis", hexBytes: "8354815b836f815b92e28e7e", expected: "サーバー停止"),
        CharsetCase(charset: "iso-2022-jp", hexBytes: "1b24422535213c2550213c44643b5f1b2842", expected: "サーバー停止"),
        CharsetCase(charset: "euc-kr", hexBytes: "bcadb9f620b4d9bfee", expected: "서버 다운"),
        CharsetCase(charset: "ks_c_5601-1987", hexBytes: "bcadb9f620b4d9bfee", expected: "서버 다운"),
        CharsetCase(charset: "utf-16", hexBytes: "fffe680069002000fc00", expected: "hi ü"),
        // Invalid sequences cost one replacement character each, not the text.
        CharsetCase(charset: "utf-8", hexBytes: "61ff62", expected: "a\u{FFFD}b"),
        CharsetCase(charset: "gbk", hexBytes: "b7feffc6f7", expected: "服\u{FFFD}器"),
        CharsetCase(charset: "shift_jis", hexBytes: "8354ff", expected: "サ\u{FFFD}"),
        CharsetCase(charset: "big5", hexBytes: "a6f8aa", expected: "伺\u{FFFD}"),
        CharsetCase(charset: "x-no-such-charset", hexBytes: "68", expected: nil),
        CharsetCase(charset: "utf-8//TRANSLIT", hexBytes: "68", expected: nil),
        CharsetCase(charset: "", hexBytes: "68", expected: nil),
    ]

    @Test(arguments: charsets)
    func charsetDecoding(_ testCase: CharsetCase) {
        #expect(MailCharset.decode(hex(testCase.hexBytes), charset: testCase.charset) == testCase.expected)
    }

    @Test func unknownCharsetIsNilEvenForASCII() {
        #expect(MailCharset.decode(Array("plain".utf8), charset: "x-unknown") == nil)
        #expect(MailCharset.decode(Array("plain".utf8), charset: "windows-1250") == "plain")
    }

    struct EncodingCase: Sendable, CustomTestStringConvertible {
        let encoding: String
        let input: String
        let expected: [UInt8]
        var testDescription: String { "\(encoding): \(String(reflecting: input))" }
    }

    static let transferEncodings: [EncodingCase] = [
        EncodingCase(encoding: "base64", input: "aGVsbG8=", expected: Array("hello".utf8)),
        EncodingCase(encoding: "base64", input: "aGVs\nbG8", expected: Array("hello".utf8)),
        EncodingCase(encoding: "base64", input: " aG Vs\tbG8 ! ", expected: Array("hello".utf8)),
        EncodingCase(encoding: "base64", input: "QQ==QkM=", expected: Array("ABC".utf8)),
        EncodingCase(encoding: "base64", input: "", expected: []),
        EncodingCase(encoding: "quoted-printable", input: "a=3Db=3db", expected: Array("a=b=b".utf8)),
        EncodingCase(encoding: "quoted-printable", input: "soft=\nbreak", expected: Array("softbreak".utf8)),
        EncodingCase(encoding: "quoted-printable", input: "soft= \t\nbreak", expected: Array("softbreak".utf8)),
        EncodingCase(encoding: "quoted-printable", input: "bad =G1 and =4", expected: Array("bad =G1 and =4".utf8)),
        EncodingCase(encoding: "quoted-printable", input: "trailing   \nspace", expected: Array("trailing\nspace".utf8)),
        EncodingCase(encoding: "quoted-printable", input: "ends with =", expected: Array("ends with ".utf8)),
        EncodingCase(encoding: "7bit", input: "as=20is", expected: Array("as=20is".utf8)),
    ]

    @Test(arguments: transferEncodings)
    func transferEncoding(_ testCase: EncodingCase) {
        #expect(TransferEncoding.decode(Array(testCase.input.utf8), encoding: testCase.encoding) == testCase.expected)
    }

    @Test func rfc2231Parameters() {
        let value = ParameterizedValue.parse(
            "attachment; FILENAME*0*=utf-8'en'Gr%C3%BC; filename*1*=%C3%9Fe; filename*2=\" aus.txt\"; size=12")
        #expect(value.value == "attachment")
        #expect(value["filename"] == "Grüße aus.txt")
        #expect(value["size"] == "12")
        let quoted = ParameterizedValue.parse("Text/Plain; charset=\"utf-8\"; name=\"a;b \\\"c\\\".txt\"; format=flowed")
        #expect(quoted.value == "text/plain")
        #expect(quoted["charset"] == "utf-8")
        #expect(quoted["name"] == "a;b \"c\".txt")
        #expect(quoted["format"] == "flowed")
        #expect(ParameterizedValue.parse("attachment; filename=\"C:\\temp\\report.pdf\"")["filename"] == "C:\\temp\\report.pdf")
        #expect(ParameterizedValue.parse("attachment; filename=report 2024.pdf")["filename"] == "report 2024.pdf")
    }
}
