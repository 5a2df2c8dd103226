/// The SMTP conversation of one connection (RFC 5321), without sockets: it takes lines and says what to answer and
/// do, so every reply code is tested without a network. The node's server (`SMTPIntakeServer`) moves the bytes.
struct SMTPSession {
    /// What the server does next.
    enum Action: Equatable {
        case reply(String)
        /// Answer 220, then put TLS under the conversation; nothing the client sent after the command may be used.
        case startTLS
        /// Hand the message to the cluster; `SMTPSession.finished(with:)` gives the reply once it is committed.
        case deliver(Envelope)
        case close
    }

    /// One message as the client sent it.
    struct Envelope: Equatable {
        /// nil for the null reverse path `<>` (bounces and other automatic mail).
        var sender: String?
        var recipients: [String]
        var data: [UInt8]
    }

    enum Phase: Equatable { case greeted, ready, mail, data, delivering, closed }

    static let maxCommandLineBytes = 4_096
    static let maxRecipients = 100

    let hostname: String
    let maxMessageBytes: Int
    let offersTLS: Bool
    /// Whether a recipient is one of the node's mailboxes.
    let acceptsRecipient: (String) -> Bool
    private(set) var phase = Phase.greeted
    private(set) var isTLS = false
    private var helloSeen = false
    private var sender: String??
    private var recipients: [String] = []
    private var data: [UInt8] = []
    private var dataOverflowed = false

    init(hostname: String, maxMessageBytes: Int, offersTLS: Bool, acceptsRecipient: @escaping (String) -> Bool) {
        self.hostname = hostname
        self.maxMessageBytes = maxMessageBytes
        self.offersTLS = offersTLS
        self.acceptsRecipient = acceptsRecipient
    }

    var greeting: String { "220 \(hostname) ESMTP Vigil" }

    /// One line without its line end.
    mutating func receive(line: ArraySlice<UInt8>) -> [Action] {
        switch phase {
        case .data: return receiveData(line)
        case .delivering, .closed: return []
        default: return command(line)
        }
    }

    /// The reply to a delivered message: `committed` when the cluster recorded it (or it needs no ticket),
    /// else the temporary or permanent failure to report.
    mutating func finished(with reply: String) -> [Action] {
        guard phase == .delivering else { return [] }
        resetTransaction()
        phase = .ready
        return [.reply(reply)]
    }

    /// A line longer than the server keeps; answered as RFC 5321 says, and the rest of it is dropped.
    mutating func lineTooLong() -> [Action] {
        if phase == .data { dataOverflowed = true; return [] }
        return [.reply("500 5.5.2 line too long (at most \(Self.maxCommandLineBytes) bytes)")]
    }

    private mutating func command(_ raw: ArraySlice<UInt8>) -> [Action] {
        let line = String(decoding: raw, as: UTF8.self)
        let verb = line.prefix { $0 != " " }.uppercased()
        let argument = line.dropFirst(verb.count).drop { $0 == " " }
        switch verb {
        case "EHLO", "HELO":
            guard !argument.isEmpty else { return [.reply("501 5.5.4 \(verb) needs a domain")] }
            resetTransaction()
            helloSeen = true
            phase = .ready
            guard verb == "EHLO" else { return [.reply("250 \(hostname)")] }
            var lines = [hostname, "SIZE \(maxMessageBytes)", "8BITMIME", "SMTPUTF8", "PIPELINING"]
            if offersTLS && !isTLS { lines.append("STARTTLS") }
            return [.reply(lines.enumerated().map { "250\($0.offset == lines.count - 1 ? " " : "-")\($0.element)" }.joined(separator: "\r\n"))]
        case "STARTTLS":
            guard offersTLS, !isTLS else { return [.reply("502 5.5.1 STARTTLS is not offered here")] }
            guard argument.isEmpty else { return [.reply("501 5.5.4 STARTTLS takes no argument")] }
            isTLS = true
            helloSeen = false
            resetTransaction()
            phase = .greeted
            return [.reply("220 2.0.0 ready to start TLS"), .startTLS]
        case "MAIL":
            guard helloSeen else { return [.reply("503 5.5.1 say EHLO first")] }
            guard phase == .ready else { return [.reply("503 5.5.1 a MAIL transaction is already open")] }
            guard argument.uppercased().hasPrefix("FROM:"), let (path, parameters) = Self.path(argument.dropFirst(5)) else {
                return [.reply("501 5.5.4 expected MAIL FROM:<address>")]
            }
            for parameter in parameters {
                let parts = parameter.split(separator: "=", maxSplits: 1)
                if parts.first?.uppercased() == "SIZE", parts.count == 2 {
                    guard let size = Int(parts[1]) else { return [.reply("501 5.5.4 SIZE must be a number")] }
                    if size > maxMessageBytes { return [.reply("552 5.3.4 message size exceeds \(maxMessageBytes) bytes")] }
                }
            }
            sender = .some(path.isEmpty ? nil : path)
            phase = .mail
            return [.reply("250 2.1.0 sender ok")]
        case "RCPT":
            guard phase == .mail else { return [.reply("503 5.5.1 MAIL FROM first")] }
            guard argument.uppercased().hasPrefix("TO:"), let (path, _) = Self.path(argument.dropFirst(3)), !path.isEmpty else {
                return [.reply("501 5.5.4 expected RCPT TO:<address>")]
            }
            guard recipients.count < Self.maxRecipients else { return [.reply("452 4.5.3 too many recipients")] }
            guard acceptsRecipient(path) else { return [.reply("550 5.1.1 no such mailbox here")] }
            recipients.append(path)
            return [.reply("250 2.1.5 recipient ok")]
        case "DATA":
            guard phase == .mail, !recipients.isEmpty else { return [.reply("503 5.5.1 no valid recipient yet")] }
            guard argument.isEmpty else { return [.reply("501 5.5.4 DATA takes no argument")] }
            phase = .data
            data = []
            dataOverflowed = false
            return [.reply("354 end data with <CR><LF>.<CR><LF>")]
        case "RSET":
            resetTransaction()
            if helloSeen { phase = .ready }
            return [.reply("250 2.0.0 reset")]
        case "NOOP": return [.reply("250 2.0.0 ok")]
        case "QUIT":
            phase = .closed
            return [.reply("221 2.0.0 bye"), .close]
        case "VRFY": return [.reply("252 2.1.5 cannot verify; send the message")]
        case "": return [.reply("500 5.5.2 empty command")]
        default: return [.reply("502 5.5.1 command not implemented")]
        }
    }

    private mutating func receiveData(_ line: ArraySlice<UInt8>) -> [Action] {
        if line.count == 1, line.first == UInt8(ascii: ".") {
            if dataOverflowed {
                resetTransaction()
                phase = .ready
                return [.reply("552 5.3.4 message size exceeds \(maxMessageBytes) bytes")]
            }
            phase = .delivering
            return [.deliver(Envelope(sender: sender ?? nil, recipients: recipients, data: data))]
        }
        guard !dataOverflowed else { return [] }
        // RFC 5321 4.5.2: a leading dot was doubled by the sender.
        let content = line.first == UInt8(ascii: ".") ? line.dropFirst() : line
        if data.count + content.count + 2 > maxMessageBytes {
            dataOverflowed = true
            data = []
            return []
        }
        data.append(contentsOf: content)
        data.append(contentsOf: [13, 10])
        return []
    }

    private mutating func resetTransaction() {
        sender = nil
        recipients = []
        data = []
        dataOverflowed = false
    }

    /// `<local@domain>` and the ESMTP parameters after it; the brackets are required, as RFC 5321 says, but a
    /// space after the colon is tolerated. Source routes (`<@a,@b:x@y>`) are reduced to the mailbox.
    static func path(_ text: Substring) -> (String, [Substring])? {
        let trimmed = text.drop { $0 == " " }
        guard trimmed.first == "<", let close = trimmed.firstIndex(of: ">") else { return nil }
        var address = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
        if address.first == "@", let colon = address.firstIndex(of: ":") { address = address[address.index(after: colon)...] }
        guard !address.contains(where: { $0 == " " || $0 == "<" }) else { return nil }
        if !address.isEmpty {
            let parts = address.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        }
        let parameters = trimmed[trimmed.index(after: close)...].split(separator: " ")
        return (String(address), parameters)
    }
}
