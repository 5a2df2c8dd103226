import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Settings of an SMS or voice gateway: the HTTP request the provider expects, as templates.
///
/// Placeholders: `{{to}}` (the address), `{{text}}` (the rendered `textTemplate`), `{{ack_url}}`,
/// `{{resolve_url}}`, `{{key}}` (idempotency key), `{{ticket_id}}`, `{{priority}}`, `{{title}}`,
/// `{{service}}`, `{{level}}`. Each value is escaped for where it lands: percent-encoded in the URL,
/// form-encoded in a form body, JSON-escaped in a JSON body (put the placeholder inside quotes), and
/// flattened to one line in a header.
public struct GatewayConfiguration: Sendable, CustomStringConvertible {
    /// The HTTP method the provider wants.
    public enum Method: String, Sendable, Equatable {
        case get = "GET", post = "POST", put = "PUT"
    }

    /// One `name=value` pair of a form body; the value is a template.
    public struct FormField: Sendable, Equatable {
        public var name: String
        public var valueTemplate: String
        public init(_ name: String, _ valueTemplate: String) {
            self.name = name
            self.valueTemplate = valueTemplate
        }
    }

    /// The request body.
    public enum Body: Sendable, Equatable {
        case none
        /// application/x-www-form-urlencoded (Twilio, most SMS providers).
        case form([FormField])
        /// A JSON document template, e.g. `{"to": "{{to}}", "message": "{{text}}"}`.
        case json(String)
    }

    /// One request header; the value is a template (secrets such as an API key usually go here).
    public struct Header: Sendable, Equatable {
        public var name: String
        public var valueTemplate: String
        public init(_ name: String, _ valueTemplate: String) {
            self.name = name
            self.valueTemplate = valueTemplate
        }
    }

    /// SMS is billed per 160-character segment; three segments by default.
    public static let defaultMaxTextCharacters = 480
    public static let defaultTextTemplate = "Vigil {{priority}} #{{ticket_id}} {{title}} ({{service}}) ack: {{ack_url}}"

    public var urlTemplate: String
    public var method: Method
    public var body: Body
    public var headers: [Header]
    /// What `{{text}}` becomes; the title is shortened first so the ack link survives the length limit.
    public var textTemplate: String
    public var maxTextCharacters: Int
    public var retryPolicy: RetryPolicy

    public init(urlTemplate: String, method: Method = .post, body: Body = .none, headers: [Header] = [],
                textTemplate: String = defaultTextTemplate, maxTextCharacters: Int = defaultMaxTextCharacters,
                retryPolicy: RetryPolicy = .standard) {
        self.urlTemplate = urlTemplate
        self.method = method
        self.body = body
        self.headers = headers
        self.textTemplate = textTemplate
        self.maxTextCharacters = maxTextCharacters
        self.retryPolicy = retryPolicy
    }

    /// Never prints header values or the URL: either may hold an API key.
    public var description: String {
        "GatewayConfiguration(method: \(method.rawValue), headers: \(headers.map(\.name)), url: <redacted>)"
    }
}

/// Delivers pages through an operator-configured HTTP gateway (SMS, voice call, pager); the address is
/// the phone number or whatever the provider calls the recipient. Same retry rules as the webhook.
public struct GatewayChannel: NotificationChannel {
    /// Longest address accepted ("+4915…", "whatsapp:+1…", a SIP URI).
    public static let maxAddressBytes = 256

    public let kind: String
    let configuration: GatewayConfiguration
    let url: GatewayTemplate
    let text: GatewayTemplate
    let form: [(name: String, value: GatewayTemplate)]
    let json: GatewayTemplate?
    let headers: [(name: String, value: GatewayTemplate)]
    let http: HTTPDelivery
    let runner: RetryRunner

    /// Parses and checks every template now, so a bad one fails at start-up rather than at 3 a.m.
    /// `kind` names the channel in logs ("sms", "voice").
    public init(kind: String = "gateway", configuration: GatewayConfiguration, client: HTTPClient,
                logger: Logger = Logger(label: "vigil.paging.gateway")) throws(PagingConfigurationError) {
        try configuration.retryPolicy.validate(setting: "gateway.retryPolicy")
        guard (20...10_000).contains(configuration.maxTextCharacters) else {
            throw PagingConfigurationError("gateway.maxTextCharacters", "must be 20...10000")
        }
        var textPlaceholders = Set(GatewayTemplate.Placeholder.allCases)
        textPlaceholders.remove(.text)
        textPlaceholders.remove(.to) // A message body has no business repeating the phone number.
        text = try GatewayTemplate(configuration.textTemplate, setting: "gateway.textTemplate", allowed: textPlaceholders)
        url = try GatewayTemplate(configuration.urlTemplate, setting: "gateway.urlTemplate")
        var form: [(name: String, value: GatewayTemplate)] = []
        var json: GatewayTemplate?
        switch configuration.body {
        case .none:
            break
        case let .form(fields):
            guard configuration.method != .get else { throw PagingConfigurationError("gateway.body", "a GET request has no body") }
            for (index, field) in fields.enumerated() {
                guard !field.name.isEmpty else { throw PagingConfigurationError("gateway.body.form[\(index)]", "empty field name") }
                form.append((field.name, try GatewayTemplate(field.valueTemplate, setting: "gateway.body.form.\(field.name)")))
            }
        case let .json(template):
            guard configuration.method != .get else { throw PagingConfigurationError("gateway.body", "a GET request has no body") }
            json = try GatewayTemplate(template, setting: "gateway.body.json")
        }
        var headers: [(name: String, value: GatewayTemplate)] = []
        for header in configuration.headers {
            guard !header.name.isEmpty, header.name.utf8.allSatisfy({ Self.isTokenByte($0) }) else {
                throw PagingConfigurationError("gateway.headers", "'\(header.name)' is not a valid header name")
            }
            headers.append((header.name, try GatewayTemplate(header.valueTemplate, setting: "gateway.headers.\(header.name)")))
        }
        self.kind = kind
        self.configuration = configuration
        self.form = form
        self.json = json
        self.headers = headers
        self.http = HTTPDelivery(client: client)
        self.runner = RetryRunner(policy: configuration.retryPolicy, channelKind: kind, logger: logger)

        // Render a sample whose values contain quotes, spaces and letters: a URL that does not parse or a
        // JSON template with a placeholder outside quotes is caught here.
        let sample = Dictionary(uniqueKeysWithValues: GatewayTemplate.Placeholder.allCases.map { ($0, "sample \"\($0.rawValue)\" value") })
        if let problem = HTTPDelivery.checkURL(url.render(sample, escape: GatewayTemplate.percentEncoded)) {
            throw PagingConfigurationError("gateway.urlTemplate", problem)
        }
        if let json {
            let rendered = Data(json.render(sample, escape: GatewayTemplate.jsonEscaped).utf8)
            guard (try? JSONSerialization.jsonObject(with: rendered, options: [.fragmentsAllowed])) != nil else {
                throw PagingConfigurationError("gateway.body.json", "not valid JSON once filled in (are the placeholders inside quotes?)")
            }
        }
    }

    public func send(_ page: PageMessage, to address: String) async -> DeliveryResult {
        if let problem = page.problem { return .failed(.permanent, detail: problem, attempts: 0) }
        guard !address.isEmpty, address.utf8.count <= Self.maxAddressBytes,
              !address.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return .failed(.permanent, detail: "the address is empty, longer than \(Self.maxAddressBytes) bytes or has control characters", attempts: 0)
        }
        let request = makeRequest(page, to: address)
        if let problem = HTTPDelivery.checkURL(request.url) {
            return .failed(.permanent, detail: "the gateway URL once filled in: \(problem)", attempts: 0)
        }
        guard (request.body?.count ?? 0) <= HTTPDelivery.maxRequestBodyBytes else {
            return .failed(.permanent, detail: "the request body exceeds \(HTTPDelivery.maxRequestBodyBytes) bytes", attempts: 0)
        }
        return await runner.run(page) { _, timeout in
            var httpRequest = HTTPClientRequest(url: request.url)
            httpRequest.method = .init(rawValue: configuration.method.rawValue)
            httpRequest.headers.add(name: "User-Agent", value: "Vigil-Pager/1")
            for (name, value) in request.headers { httpRequest.headers.add(name: name, value: value) }
            if let body = request.body { httpRequest.body = .bytes(ByteBuffer(bytes: body)) }
            return await http.attempt(httpRequest, timeout: timeout)
        }
    }

    /// The filled-in request (URL, headers, body) for `page`; exposed to tests.
    func makeRequest(_ page: PageMessage, to address: String) -> (url: String, headers: [(String, String)], body: [UInt8]?) {
        var values = values(page, to: address, text: "")
        values[.text] = renderText(page, values: values)
        var headerList = headers.map { ($0.name, $0.value.render(values, escape: PageText.singleLine)) }
        var body: [UInt8]?
        switch configuration.body {
        case .none:
            break
        case .form:
            body = Array(form.map { "\(GatewayTemplate.formEncoded($0.name))=\($0.value.render(values, escape: GatewayTemplate.formEncoded))" }
                .joined(separator: "&").utf8)
            if !headerList.contains(where: { $0.0.lowercased() == "content-type" }) {
                headerList.append(("Content-Type", "application/x-www-form-urlencoded"))
            }
        case .json:
            body = Array((json?.render(values, escape: GatewayTemplate.jsonEscaped) ?? "").utf8)
            if !headerList.contains(where: { $0.0.lowercased() == "content-type" }) {
                headerList.append(("Content-Type", "application/json"))
            }
        }
        headerList.append(("Idempotency-Key", page.headerSafeIdempotencyKey))
        return (url.render(values, escape: GatewayTemplate.percentEncoded), headerList, body)
    }

    private func values(_ page: PageMessage, to address: String, text: String) -> [GatewayTemplate.Placeholder: String] {
        [.to: address, .text: text, .key: page.idempotencyKey, .priority: page.priority.rawValue,
         .title: PageText.singleLine(page.title), .service: PageText.singleLine(page.service),
         .level: String(page.escalationLevelIndex + 1), .ackURL: page.ackURL, .resolveURL: page.resolveURL ?? "",
         .ticketID: String(page.ticketID)]
    }

    /// Renders `textTemplate`; if too long, shortens the title by the excess (keeping the link whole),
    /// and only then cuts the end.
    func renderText(_ page: PageMessage, values: [GatewayTemplate.Placeholder: String]) -> String {
        let limit = configuration.maxTextCharacters
        var rendered = text.render(values) { $0 }
        if rendered.count > limit, text.uses(.title), let title = values[.title] {
            var shorter = values
            shorter[.title] = PageText.truncated(title, maxCharacters: max(1, title.count - (rendered.count - limit)))
            rendered = text.render(shorter) { $0 }
        }
        return PageText.truncated(rendered, maxCharacters: limit)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
