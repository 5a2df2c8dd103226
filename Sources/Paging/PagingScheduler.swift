import DutyModel
import Foundation
import Logging

/// How the leader's scheduler pages.
public struct PagingSchedulerConfiguration: Sendable {
    /// Signs the acknowledgement links every page carries (the secret is shared by all nodes).
    public var signer: AckLinkSigner
    public var ackLinkLifetimeSeconds: Int64
    /// Longest sleep between plans when nothing is due sooner (also bounds the reaction to a missed signal).
    public var maxSleep: Duration
    /// Per person and contact method: messages at once, and one more every `rateLimitRefillMilliseconds`.
    public var rateLimitBurst: Int
    public var rateLimitRefillMilliseconds: Int64
    /// A test knob that breaks the paging promise on purpose, so drills can show their checker catches it
    /// (chaos/run.sh --unsafe unfenced-pages): every node, leader or not, sends the pages of the steps it sees
    /// fall due from its own copy of the state, before any intent commits — as two HA Alertmanagers both page.
    public var unsafeUnfencedPages = false
    /// Mail to customers (acknowledgements, replies, satisfaction links); nil when no relay is configured, and the
    /// rows wait in the outbox.
    public var customerMailer: CustomerMailer?
    /// How long a satisfaction link works.
    public var feedbackLinkLifetimeSeconds: Int64 = 14 * 86_400

    public init(signer: AckLinkSigner, ackLinkLifetimeSeconds: Int64 = 86_400, maxSleep: Duration = .seconds(1),
                rateLimitBurst: Int = 5, rateLimitRefillMilliseconds: Int64 = 12_000) {
        self.signer = signer
        self.ackLinkLifetimeSeconds = ackLinkLifetimeSeconds
        self.maxSleep = maxSleep
        self.rateLimitBurst = rateLimitBurst
        self.rateLimitRefillMilliseconds = rateLimitRefillMilliseconds
    }
}

/// The leader's paging scheduler (DESIGN §4): runs `SchedulerCore`'s decisions with the node's clock, tasks and
/// channels. Followers run it too but it stays idle until the node leads.
public actor PagingScheduler {
    private let host: any PagingHost
    private let router: ChannelRouter
    private let configuration: PagingSchedulerConfiguration
    private let wake: WakeSignal
    private let logger: Logger
    private var core: SchedulerCore

    public init(host: any PagingHost, router: ChannelRouter, configuration: PagingSchedulerConfiguration, wake: WakeSignal,
                logger: Logger) {
        self.host = host
        self.router = router
        self.configuration = configuration
        self.wake = wake
        self.logger = logger
        var options = SchedulerCore.Options()
        options.maxSleepMilliseconds = max(1, Int64(configuration.maxSleep.components.seconds * 1_000
                                                     + configuration.maxSleep.components.attoseconds / 1_000_000_000_000_000))
        options.rateLimitBurst = configuration.rateLimitBurst
        options.rateLimitRefillMilliseconds = configuration.rateLimitRefillMilliseconds
        options.unsafeUnfencedPages = configuration.unsafeUnfencedPages
        options.sendsCustomerMail = configuration.customerMailer != nil
        core = SchedulerCore(options: options)
    }

    /// Plans and acts until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            let sleep = pass()
            await wake.wait(atMost: sleep)
        }
    }

    static func nowMillis() -> Timestamp { Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)) }

    /// One plan: starts what is due and returns how long to sleep at most.
    func pass() -> Duration {
        let wasLeading = core.ledTerm
        let (work, sleepMilliseconds) = core.pass(now: Self.nowMillis(), reader: host)
        if core.ledTerm != wasLeading {
            if let term = core.ledTerm {
                logger.info("paging scheduler active", metadata: ["term": "\(term)"])
            } else {
                logger.info("paging scheduler idle: not the leader")
            }
        }
        perform(work)
        return .milliseconds(sleepMilliseconds)
    }

    /// Starts each piece of work in a task of its own; each reports back to the core when it ends.
    private func perform(_ work: [SchedulerCore.Work]) {
        for item in work {
            switch item {
            case let .propose(id, command):
                Task {
                    let result = await self.host.propose([command]).first
                    await self.proposalFinished(id, command: command, result: result)
                }
            case let .send(id, _):
                Task {
                    Failpoint.hit(Failpoint.pagingAfterIntent)
                    await self.send(id)
                }
            case let .sendMail(id, mail):
                Task { await self.sendCustomerMail(id, mail) }
            case let .inspect(id, inspection):
                Task { await self.inspect(id, inspection) }
            case let .sendUnfenced(jobs):
                guard let job = jobs.first, let address = job.address, let channel = router.channel(for: job.row.kind) else { continue }
                let message = message(for: jobs)
                Task { _ = await channel.send(message, to: address) }
            case let .lateness(kind, milliseconds):
                host.observeLateness(kind: kind, milliseconds: milliseconds)
            }
        }
        if core.takeWakeRequest() { wake.signal() }
    }

    private func proposalFinished(_ id: SchedulerCore.WorkID, command: DutyCommand, result: PagingProposalResult?) {
        if case let .refused(error)? = result {
            logger.debug("the duty model refused a scheduler command",
                         metadata: ["command": "\(command.name)", "field": "\(error.field)", "reason": "\(error.reason.rawValue)"])
        }
        if case .heartbeatMissed(let monitorID) = command, result?.isApplied == true {
            logger.warning("heartbeat missed: incident opened", metadata: ["monitor": "\(monitorID)"])
        }
        perform(core.proposed(id, result: result, now: Self.nowMillis(), reader: host))
    }

    /// Sends one message for the pages of `id` still wanted (one recipient; several pages become one message with a
    /// count) if this node still leads the term they were intended in.
    private func send(_ id: SchedulerCore.WorkID) async {
        let (jobs, cancelled) = core.pagesToSend(id, reader: host)
        perform(cancelled)
        guard !jobs.isEmpty else { return }
        let first = jobs[0]
        let result: DeliveryResult
        if first.address == nil {
            result = .failed(.permanent, detail: "the contact method was removed after the page was planned", attempts: 0)
        } else if let channel = router.channel(for: first.row.kind) {
            result = await channel.send(message(for: jobs), to: first.address!)
        } else {
            result = .failed(.permanent, detail: "no \(first.row.kind.rawValue) channel is configured on this cluster", attempts: 0)
        }
        if !result.isDelivered {
            logger.warning("page not delivered", metadata: [
                "key": "\(first.row.key)", "person": "\(first.row.personID)", "channel": "\(first.row.kind.rawValue)", "result": "\(result)",
            ])
        }
        Failpoint.hit(Failpoint.pagingAfterSend)
        perform(core.sent(id, result: result, now: Self.nowMillis()))
    }

    func message(for jobs: [PagingPlan.PageJob]) -> PageMessage {
        let first = jobs[0]
        let expiresAt = Date(timeIntervalSince1970: Double(Self.nowMillis() / 1_000 + configuration.ackLinkLifetimeSeconds))
        let title = jobs.count == 1 ? first.ticketTitle : "\(first.ticketTitle) (and \(jobs.count - 1) more page\(jobs.count == 2 ? "" : "s") for you)"
        return PageMessage(
            ticketID: first.row.ticketID, title: title, priority: PagePriority(rawValue: first.priority.rawValue) ?? .p1,
            service: first.serviceName, escalationStepIndex: first.row.stepIndex, escalationLevelIndex: first.row.levelIndex,
            recipientPersonID: first.row.personID, idempotencyKey: first.row.key,
            ackURL: configuration.signer.url(ticketID: first.row.ticketID, idempotencyKey: first.row.key, expiresAt: expiresAt),
            resolveURL: configuration.signer.url(ticketID: first.row.ticketID, idempotencyKey: first.row.key, action: .resolve,
                                                 expiresAt: expiresAt),
            createdAtMilliseconds: Self.nowMillis())
    }

    private func sendCustomerMail(_ id: SchedulerCore.WorkID, _ mail: CustomerMail) async {
        guard core.mayStillSend(id, leaderTerm: host.leaderTerm()) else {
            perform([])
            return
        }
        let result: DeliveryResult
        if let mailer = configuration.customerMailer, let content = host.readDuty({ CustomerMailContent.make($0, mail) }) {
            let expiresAt = Date(timeIntervalSince1970: Double(Self.nowMillis() / 1_000 + configuration.feedbackLinkLifetimeSeconds))
            let link = mail.purpose == .satisfaction
                ? configuration.signer.feedbackURL(ticketID: mail.ticketID, idempotencyKey: mail.key, expiresAt: expiresAt) : nil
            result = await mailer.send(content, feedbackURL: link)
        } else {
            result = .failed(.permanent, detail: "the ticket or the customer's address is gone", attempts: 0)
        }
        if !result.isDelivered {
            logger.warning("customer mail not delivered", metadata: ["key": "\(mail.key)", "result": "\(result)"])
        }
        perform(core.sent(id, result: result, now: Self.nowMillis()))
    }

    /// S8: a test message to every contact method of the channel, and one recorded result.
    private func inspect(_ id: SchedulerCore.WorkID, _ inspection: PagingPlan.InspectionDue) async {
        guard core.mayStillSend(id, leaderTerm: host.leaderTerm()) else {
            perform([])
            return
        }
        var results: [DeliveryResult?] = []
        for target in inspection.targets {
            guard let channel = router.channel(for: target.kind) else {
                results.append(nil)
                continue
            }
            let key = "inspection-\(inspection.inspectionID)-\(inspection.dueAt)-\(target.personID)-\(target.contactMethodID)"
            let page = PageMessage(
                ticketID: 0, title: "Vigil channel inspection: a test message, no action needed", priority: .p4,
                service: "channel inspection", escalationStepIndex: 0, escalationLevelIndex: 0, recipientPersonID: target.personID,
                idempotencyKey: key, ackURL: configuration.signer.baseURL + "/healthz", createdAtMilliseconds: Self.nowMillis())
            results.append(await channel.send(page, to: target.address))
        }
        perform(core.inspected(id, results: results))
    }
}
