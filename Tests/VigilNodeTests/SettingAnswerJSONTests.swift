import Foundation
import NIOCore
import Testing
@testable import VigilNode

@Suite struct SettingAnswerJSONTests {
    static let awkward = ["", "plain", "quote \" and backslash \\", "new\nline\ttab\r", "\u{0}\u{1}\u{1F}", "slash / ok",
                          "值班 📟", String(repeating: "é", count: 300)]

    @Test(arguments: awkward)
    func theHandWrittenAnswerParsesToTheSameValue(text: String) throws {
        for answer in [
            SettingsPayloads.SettingAnswer(key: "k/" + text, value: text, revision: 42, created: true),
            SettingsPayloads.SettingAnswer(key: text, value: nil, revision: UInt64.max, deleted: true),
            SettingsPayloads.SettingAnswer(key: "k", value: text, revision: 0),
        ] {
            var buffer = ByteBuffer()
            answer.writeJSON(into: &buffer)
            let bytes = Data(buffer.readableBytesView)
            #expect(try JSONDecoder().decode(SettingsPayloads.SettingAnswer.self, from: bytes) == answer)
            // The same fields as the encoder wrote, absent ones left out.
            let object = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
            var expected: Set<String> = ["key", "revision"]
            if answer.value != nil { expected.insert("value") }
            if answer.created != nil { expected.insert("created") }
            if answer.deleted != nil { expected.insert("deleted") }
            #expect(Set(object.keys) == expected)
        }
    }
}
