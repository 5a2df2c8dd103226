import DutyModel
import Foundation
import Logging

/// What one message to a customer says, read from the applied state when it is sent.
public struct CustomerMailContent: Sendable, Equatable {
    public let key: String
    public let purpose: CustomerMail.Purpose
    public let ticketID: TicketID
    public let ticketTitle: String
    public let priority: Priority
    public let kind: TicketKind
    /// Contact data: used for the envelope and the To header, never logged.
    public let to: String
    public let customerName: String
    public let language: Customer.Language
    public let replyFrom: String?
    public let text: String
    /// The clocks the ticket runs (S2: the acknowledgement says what was promised).
    public let targets: [(target: SLATarget, mode: ClockMode, millis: Int64)]
    /// The customer's Message-IDs on the ticket, oldest first, for In-Reply-To and References.
    public let customerMessageIDs: [String]

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.key == rhs.key && lhs.to == rhs.to && lhs.text == rhs.text }

    /// The content of `mail`, or nil when the ticket or the customer's address is gone (removed on request, S16).
    public static func make(_ state: DutyState, _ mail: CustomerMail) -> CustomerMailContent? {
        guard let customer = state.customer(mail.customerID), let address = customer.emailAddresses.first else { return nil }
        guard mail.purpose != .announcement else {
            return CustomerMailContent(key: mail.key, purpose: mail.purpose, ticketID: 0, ticketTitle: "", priority: .p4, kind: .consultation,
                                       to: address, customerName: customer.name, language: customer.language, replyFrom: mail.replyFrom,
                                       text: mail.text, targets: [], customerMessageIDs: [])
        }
        guard let ticket = state.ticket(mail.ticketID) else { return nil }
        let ids = ticket.timeline.compactMap { entry -> String? in
            if case let .customerMessage(id, _, _, _) = entry.action { id } else { nil }
        }
        return CustomerMailContent(key: mail.key, purpose: mail.purpose, ticketID: ticket.id, ticketTitle: ticket.title, priority: ticket.priority,
                                   kind: ticket.kind, to: address, customerName: customer.name, language: customer.language,
                                   replyFrom: mail.replyFrom, text: mail.text,
                                   targets: ticket.clocks.map { ($0.target, $0.clockMode, $0.targetMillis) },
                                   customerMessageIDs: ids)
    }
}

/// Sends mail to customers through the paging relay (`paging.smtp`): threaded on the ticket (a stable Message-ID
/// per outbox key, In-Reply-To the customer's last message), in the customer's language.
public struct CustomerMailer: Sendable {
    let client: SMTPClient
    let fromAddress: String
    let fromName: String
    let messageIDDomain: String
    let runner: RetryRunner

    public init(configuration: EmailConfiguration, logger: Logger = Logger(label: "vigil.paging.customer-mail")) throws(PagingConfigurationError) {
        client = try SMTPClient(configuration: configuration.smtp, logger: logger)
        fromAddress = configuration.fromAddress
        fromName = configuration.fromName
        messageIDDomain = configuration.messageIDDomain ?? String(configuration.fromAddress.split(separator: "@").last ?? "vigil.invalid")
        runner = RetryRunner(policy: configuration.retryPolicy, channelKind: "customer-mail", logger: logger)
    }

    /// `<vigil.mail.<purpose>.<ticket>.<n>@domain>`: the same for every resend of the key, and it names the ticket,
    /// so a customer's reply quoting it joins the ticket on any node.
    public static func messageID(key: String, domain: String) -> String {
        "<vigil.\(key.replacingOccurrences(of: ":", with: "."))@\(domain)>"
    }

    public func send(_ content: CustomerMailContent, feedbackURL: String?, date: Date = Date()) async -> DeliveryResult {
        do {
            try SMTPClient.checkAddress(content.to, role: "recipient")
        } catch {
            return .failed(.permanent, detail: "the customer's address is refused: \(error.description)", attempts: 0)
        }
        let message = compose(content, feedbackURL: feedbackURL, date: date)
        let page = PageMessage.customerMail(key: content.key, ticketID: content.ticketID)
        return await runner.run(page) { _, _ in await client.attempt(message) }
    }

    func compose(_ content: CustomerMailContent, feedbackURL: String?, date: Date) -> EmailMessage {
        let words = CustomerMailText(content.language)
        let tag = "[#\(content.ticketID)]"
        let subject: String
        var body: [String]
        switch content.purpose {
        case .acknowledgement:
            subject = "\(tag) \(PageText.singleLine(content.ticketTitle))"
            body = [words.greeting(content.customerName), "", words.registered(content.ticketID, content.priority), ""]
            if !content.targets.isEmpty {
                body.append(words.promise)
                body += content.targets.sorted { $0.target < $1.target }.map { "- " + words.target($0.target) + ": " + words.within($0.millis, $0.mode) }
                body.append("")
            }
            body.append(words.replyHint(tag))
        case .reply:
            subject = "Re: \(tag) \(PageText.singleLine(content.ticketTitle))"
            body = [content.text, "", "-- ", words.replyHint(tag)]
        case .satisfaction:
            subject = "\(tag) \(words.satisfactionSubject)"
            body = [words.greeting(content.customerName), "", words.satisfaction(content.ticketID), "", feedbackURL ?? "", "", words.linkValidity]
        case .announcement:
            subject = words.announcementSubject
            body = [words.greeting(content.customerName), "", words.announcement, "", content.text, "", words.announcementScope]
        }
        body += ["", words.signature]
        let sender = content.replyFrom ?? fromAddress
        var headers = [
            "Date: \(EmailComposer.rfc5322Date(date))",
            "From: \(EmailComposer.encodedWord(fromName, alwaysQuote: true)) <\(sender)>",
            "To: <\(content.to)>",
            EmailComposer.folded("Subject: " + EmailComposer.encodedWord(subject, alwaysQuote: false)),
            "Message-ID: \(Self.messageID(key: content.key, domain: messageIDDomain))",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
        ]
        if content.ticketID > 0 { headers.append("X-Vigil-Ticket: \(content.ticketID)") }
        // RFC 3834: the acknowledgement answers the customer's message automatically, the survey is generated;
        // their auto-responders then stay quiet. A comment is a person's answer and carries neither.
        switch content.purpose {
        case .acknowledgement: headers.append("Auto-Submitted: auto-replied")
        case .satisfaction, .announcement: headers.append("Auto-Submitted: auto-generated")
        case .reply: break
        }
        if let last = content.customerMessageIDs.last {
            headers.append("In-Reply-To: <\(last)>")
            headers.append(EmailComposer.folded("References: " + content.customerMessageIDs.suffix(10).map { "<\($0)>" }.joined(separator: " ")))
        }
        let text = headers.joined(separator: "\r\n") + "\r\n\r\n" + QuotedPrintable.encode(body.joined(separator: "\n")) + "\r\n"
        // The envelope sender is the relay's address, so bounces reach Vigil's own mailbox, not the intake.
        return EmailMessage(envelopeFrom: fromAddress, recipient: content.to, content: Array(text.utf8))
    }
}

/// The words of customer mail in English and Chinese.
struct CustomerMailText {
    let language: Customer.Language
    init(_ language: Customer.Language) { self.language = language }

    var zh: Bool { language == .zh }

    func greeting(_ name: String) -> String { zh ? "\(name)，您好：" : "Hello \(name)," }
    func registered(_ id: TicketID, _ priority: Priority) -> String {
        zh ? "我们已收到您的来信，登记为工单 #\(id)（优先级 \(priority.rawValue)）。" : "We have received your message and registered it as ticket #\(id) (priority \(priority.rawValue))."
    }
    var promise: String { zh ? "我们对这张工单的承诺：" : "What we promise for it:" }
    func target(_ target: SLATarget) -> String {
        switch target {
        case .firstResponse: zh ? "首次响应" : "first response"
        case .initialSolution: zh ? "初步解决方案" : "an initial solution"
        case .updateInterval: zh ? "进展更新间隔" : "news at least every"
        case .resolution: zh ? "解决" : "resolution"
        }
    }
    func within(_ millis: Int64, _ mode: ClockMode) -> String {
        let minutes = max(1, millis / 60_000)
        let amount = minutes % 60 == 0 ? (zh ? "\(minutes / 60) 小时" : "\(minutes / 60) hour\(minutes == 60 ? "" : "s")")
            : (zh ? "\(minutes) 分钟" : "\(minutes) minute\(minutes == 1 ? "" : "s")")
        switch mode {
        case .calendarTime: return zh ? "\(amount)内" : "within \(amount)"
        case .businessTime: return zh ? "\(amount)内（工作时间）" : "within \(amount) of working time"
        }
    }
    func replyHint(_ tag: String) -> String {
        zh ? "直接回复本邮件即可补充工单内容；请保留主题中的 \(tag)。" : "Reply to this e-mail to add to the ticket; keep \(tag) in the subject."
    }
    var satisfactionSubject: String { zh ? "请评价我们的服务" : "How did we do?" }
    func satisfaction(_ id: TicketID) -> String {
        zh ? "工单 #\(id) 已处理完毕。请用下面的链接为我们的服务打分（1–5 分），并留下您的意见：" : "Ticket #\(id) has been resolved. Please rate our service (1–5) and tell us what you think:"
    }
    var announcementSubject: String { zh ? "服务政策变更通知" : "A change to our service policy" }
    var announcement: String { zh ? "我们的服务政策有变更，特此书面通知：" : "We are writing to tell you that a service policy has changed:" }
    var announcementScope: String {
        zh ? "新政策适用于此后登记的工单；已登记的工单仍按登记时的政策处理。" : "It applies to requests registered from now on; open requests keep the terms they were registered under."
    }
    var linkValidity: String { zh ? "链接 14 天内有效，无需登录。" : "The link works for 14 days and needs no sign-in." }
    var signature: String { zh ? "—— 值班服务台" : "-- The service desk" }
}
