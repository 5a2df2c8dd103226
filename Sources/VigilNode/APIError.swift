import Foundation
import Hummingbird

/// An HTTP error answer; every error body has the shape `{"error":{"code","message","field"}}`.
public struct APIError: Error, Sendable, Codable, Equatable {
    /// The `error` object of the body.
    public struct Detail: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
        /// The request part at fault (a path parameter, a JSON key, a header), or null.
        public var field: String?

        public func encode(to encoder: any Encoder) throws {
            // Always present, null when unknown, so clients can rely on one shape.
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
            try container.encode(field, forKey: .field)
        }

        enum CodingKeys: String, CodingKey { case code, message, field }
    }

    public var status: Int
    public var error: Detail

    enum CodingKeys: String, CodingKey { case error }

    public init(status: Int, code: String, message: String, field: String? = nil) {
        self.status = status
        self.error = Detail(code: code, message: message, field: field)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.error = try container.decode(Detail.self, forKey: .error)
        self.status = 0
    }

    var response: Response {
        JSONResponse.make(status: HTTPResponse.Status(code: status), self)
    }
}

/// Builds JSON responses.
enum JSONResponse {
    static func make(status: HTTPResponse.Status = .ok, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var buffer = ByteBuffer()
        buffer.writeBytes(data)
        buffer.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }
}
