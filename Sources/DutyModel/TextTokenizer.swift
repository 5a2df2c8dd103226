/// Splits English and Chinese text into search terms.
///
/// Chinese has no spaces, so runs of CJK characters become overlapping bigrams
/// ("密码重置" → "密码", "码重", "重置"); other text becomes lower-cased words.
public enum TextTokenizer {
    static let stopWords: Set<String> = ["a", "an", "the", "is", "are", "to", "of", "and", "or", "in", "on", "for",
                                         "my", "i", "it", "how", "do", "does", "what", "can", "be", "with", "not"]

    public static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x3040...0x30FF, 0xAC00...0xD7AF, 0x20000...0x2A6DF: return true
        default: return false
        }
    }

    public static func terms(_ text: String) -> [String] {
        var result: [String] = []
        var word = ""
        var cjkRun: [Unicode.Scalar] = []

        func flushWord() {
            if !word.isEmpty, !stopWords.contains(word) { result.append(word) }
            word = ""
        }
        func flushCJK() {
            if cjkRun.count == 1 {
                result.append(String(Character(cjkRun[0])))
            } else if cjkRun.count > 1 {
                for index in 0..<(cjkRun.count - 1) {
                    var bigram = String.UnicodeScalarView()
                    bigram.append(cjkRun[index])
                    bigram.append(cjkRun[index + 1])
                    result.append(String(bigram))
                }
            }
            cjkRun.removeAll(keepingCapacity: true)
        }

        for scalar in text.unicodeScalars {
            if isCJK(scalar) {
                flushWord()
                cjkRun.append(scalar)
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                flushCJK()
                word.unicodeScalars.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                flushWord()
                flushCJK()
            }
        }
        flushWord()
        flushCJK()
        return result
    }
}
