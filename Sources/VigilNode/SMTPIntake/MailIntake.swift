import Crypto
import DutyModel
import Logging
import MailParsing
import Paging

/// What the SMTP intake does with one received message: parse it, leave automatic mail alone, and record the rest
/// as a `receiveMail` entry; the reply says what became of it, so a sender retries exactly when it should.
struct MailIntake: Sendable {
    /// Proposes on the leader or forwards to it, and waits until applied; a failure is a reason to retry later.
    let propose: @Sendable (ReplicatedCommand) async -> Result<ApplyOutcome, HTTPAPI.NotProposed>
    let settings: SMTPIntakeSettings
    let logger: Logger

    func deliver(_ envelope: SMTPSession.Envelope) async -> String {
        let parsed: ParsedMail
        do {
            parsed = try MailParser.parse(envelope.data)
        } catch {
            return "554 5.6.0 the message cannot be read: \(error.message)"
        }
        // RFC 3834 and 5321: an automatic message or a bounce is accepted and never answered, so two robots cannot
        // write to each other forever; it opens no ticket.
        guard let sender = envelope.sender else { return "250 2.0.0 accepted; a message from the null sender opens no ticket" }
        if parsed.isAutomatic {
            logger.info("automatic mail accepted without a ticket", metadata: ["reason": "\(parsed.automaticReason ?? "?")"])
            return "250 2.0.0 accepted; an automatic message opens no ticket"
        }
        guard let mailbox = envelope.recipients.lazy.compactMap(settings.mailbox(for:)).first else {
            return "554 5.1.1 no recipient is a mailbox here"
        }
        // Without a Message-ID the digest stands in, so the same message retried is still recorded once.
        let messageID = parsed.messageID.map { String($0.prefix(998)) }
            ?? (WebhookSignature.hex(Array(SHA256.hash(data: envelope.data))) + "@vigil.invalid")
        let mail = InboundMail(
            messageID: messageID, references: Array(parsed.references.prefix(100)),
            fromAddress: Customer.normalizedAddress(parsed.from?.address ?? sender), fromName: String(parsed.from?.displayName.prefix(200) ?? ""),
            subject: parsed.subject, text: parsed.text,
            attachments: parsed.attachments.prefix(DutyLimits.maxAttachmentsPerMessage).map {
                MailAttachmentRecord(fileName: String($0.fileName.prefix(200)), contentType: String($0.contentType.prefix(100)), byteCount: $0.byteCount)
            },
            serviceID: mailbox.service, kind: mailbox.kind, priority: mailbox.priority, mailbox: mailbox.address)
        let proposal = DutyProposal(command: .receiveMail(mail), leaderTimestamp: 0, actor: ActorID("mail:\(mailbox.service.prefix(40))"),
                                    leaderTerm: DutyProposal.termRequested)
        switch await propose(.duty(proposal)) {
        case let .failure(reason):
            return "451 4.3.0 not recorded (\(reason)); try again later"
        case let .success(.duty(.success(events))):
            for event in events {
                switch event.kind {
                case let .customerMessageReceived(id, _):
                    logger.info("mail recorded", metadata: ["ticket": "\(id)", "bytes": "\(envelope.data.count)"])
                    return "250 2.0.0 recorded on ticket \(id)"
                case let .mailAlreadyRecorded(id, _):
                    return "250 2.0.0 already recorded on ticket \(id)"
                default: continue
                }
            }
            return "250 2.0.0 recorded"
        case let .success(.duty(.failure(error))) where error.reason == .notFound:
            // A mailbox mapped to a service that does not exist (yet) is the operator's to fix: the sender keeps the
            // message and retries, rather than the customer getting a bounce.
            return "451 4.3.0 \(error.field): \(error.message); try again later"
        case let .success(.duty(.failure(error))) where error.reason == .limitExceeded:
            return "452 4.3.1 \(error.field): \(error.message)"
        case let .success(.duty(.failure(error))):
            return "554 5.6.0 \(error.field): \(error.message)"
        case .success:
            return "451 4.3.0 the message was applied as something else; try again later"
        }
    }
}
