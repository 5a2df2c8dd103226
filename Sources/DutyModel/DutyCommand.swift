/// Everything that can change the duty state; proposed through the Raft log and applied in order.
public enum DutyCommand: Codable, Sendable, Equatable {
    // Configuration
    case upsertCalendar(BusinessCalendar)
    case upsertSLAPolicy(SLAPolicy.Draft)
    case upsertEscalationPolicy(EscalationPolicy.Draft)
    case upsertPerson(Person)
    case upsertTeam(Team)
    case upsertSchedule(OnCallSchedule)
    case addScheduleOverride(scheduleID: String, override: OnCallSchedule.Override)
    /// Removes the newest override equal to `override` (person, start and end).
    case removeScheduleOverride(scheduleID: String, override: OnCallSchedule.Override)
    case upsertService(Service)
    case addIntegrationKey(serviceID: String, key: String)
    case addMaintenanceWindow(serviceID: String, window: Service.MaintenanceWindow)
    /// S15: a customer's contract names its own SLA policy; nil removes the override.
    case setCustomerSLAOverride(customerID: String, slaPolicyID: String?)
    /// S15/S16: a customer object; its SLA policy comes before `setCustomerSLAOverride`'s.
    case upsertCustomer(Customer)
    case removeCustomer(customerID: String)
    case recordCustomerContactAccess(customerID: String, reason: String)
    /// S8: a customer's e-mail, from the SMTP intake.
    case receiveMail(InboundMail)
    /// S9: the scheduler found these shifts about to start; their people are reminded through the outbox.
    case recordHandoffReminders([HandoffReminder])

    // Tickets
    case registerTicket(NewTicket)
    case advanceTicket(ticketID: TicketID, to: TicketStage)
    case reopenTicket(ticketID: TicketID, reason: String)
    case acknowledgeTicket(ticketID: TicketID)
    /// A responder's resolve: walks the ticket forward to feedback, as PagerDuty resolves from any open state.
    case resolveTicket(ticketID: TicketID)
    case assignTicket(ticketID: TicketID, ownerID: String)
    case changePriority(ticketID: TicketID, priority: Priority)
    /// A customer-visible note counts as a reply (stops first response, re-arms the update interval).
    case addNote(ticketID: TicketID, text: String, customerVisible: Bool)
    case provideInitialSolution(ticketID: TicketID, text: String)
    case setWaitingForCustomer(ticketID: TicketID, waiting: Bool)
    case recordSLAWarning(ticketID: TicketID, target: SLATarget)
    case recordSLABreach(ticketID: TicketID, target: SLATarget)
    /// The scheduler's batch of one pass: every warning and breach that fell due together, in one entry
    /// (at most `DutyLimits.maxSchedulerBatch`). An item no longer owed (the clock stopped meanwhile) is skipped.
    case recordSLAEvents([SLAEventRecord])
    /// With `leaderTerm`, the pages of the step that are due at once are intended in the same entry, which
    /// saves the leader a round of the log before the first page of an emergency.
    case recordEscalationStep(ticketID: TicketID, stepIndex: Int, leaderTerm: UInt64? = nil)
    /// The scheduler's batch of one pass: every escalation step that fell due together, in one entry (at most
    /// `DutyLimits.maxSchedulerBatch`); items marked `intendDuePages` intend their due pages for `leaderTerm`.
    /// A step no longer due (acknowledged, closed or recorded meanwhile) is skipped.
    case recordEscalationSteps([EscalationStepRecord], leaderTerm: UInt64?)
    /// Proposed by the scheduler once a service's acknowledgement timeout passed; replicas re-check it.
    case expireAcknowledgement(ticketID: TicketID)
    /// A batch of `expireAcknowledgement`, skipping tickets no longer acknowledged.
    case expireAcknowledgements(ticketIDs: [TicketID])
    /// The leader of `leaderTerm` is about to send these outbox pages; it sends only once this commits
    /// and it is still leader of that term (fencing). A later leader re-intends pages without an outcome.
    case recordPageIntents(keys: [String], leaderTerm: UInt64)
    case recordPageOutcomes([PageOutcome])

    // Integrations
    case pagerDutyEvent(PagerDutyEvent)
    case alertmanagerNotification(AlertmanagerNotification)
    /// PagerDuty change events: a deploy or config change onto the service's timeline.
    case changeEvent(ChangeEvent)
    case upsertHeartbeatMonitor(id: String, serviceID: String, intervalSeconds: Int64, graceSeconds: Int64)
    case heartbeatPing(monitorID: String)
    case heartbeatMissed(monitorID: String)
    /// `serviceID`: a failed inspection opens a ticket on that service (one at a time) for its team to fix the channel.
    case upsertChannelInspection(id: String, channel: String, timesPerDay: Int, serviceID: String? = nil)
    case recordInspectionResult(inspectionID: String, passed: Bool, detail: String)

    // Knowledge, feedback, supervision, privacy
    case upsertArticle(ArticleDraft)
    case recordArticleHit(articleID: String)
    case submitFeedback(ticketID: TicketID, rating: Int, comment: String)
    case drawSupervisionSample(sampleID: String, seed: UInt64, size: Int)
    case recordReviewVerdict(sampleID: String, ticketID: TicketID, verdict: SupervisionSample.Verdict, note: String)
    /// S16: reading contact data is itself an audited act.
    case recordContactAccess(personID: String, reason: String)
}

/// A ticket as a person or the API registers it.
public struct NewTicket: Codable, Sendable, Equatable {
    public let kind: TicketKind
    public let priority: Priority
    public let title: String
    public let description: String
    public let serviceID: String
    public let customerID: String?
    public let ownerID: String?
    public init(kind: TicketKind, priority: Priority, title: String, description: String = "", serviceID: String,
                customerID: String? = nil, ownerID: String? = nil) {
        self.kind = kind
        self.priority = priority
        self.title = title
        self.description = description
        self.serviceID = serviceID
        self.customerID = customerID
        self.ownerID = ownerID
    }
}

/// A PagerDuty Events API v2 event.
public struct PagerDutyEvent: Codable, Sendable, Equatable {
    /// The Events v2 event actions.
    public enum Action: String, Codable, Sendable { case trigger, acknowledge, resolve }
    public let routingKey: String
    public let action: Action
    /// Required for acknowledge/resolve; for a trigger without one the ticket number is used.
    public let dedupKey: String?
    public let summary: String
    public let source: String
    public let severity: String
    /// The rest of the event as canonical JSON (component, group, class, custom_details, links, images,
    /// client, client_url, timestamp), kept on the ticket's timeline; at most `DutyLimits.maxAlertDetailsBytes`.
    public let details: String?
    public init(routingKey: String, action: Action, dedupKey: String?, summary: String = "", source: String = "", severity: String = "error",
                details: String? = nil) {
        self.routingKey = routingKey
        self.action = action
        self.dedupKey = dedupKey
        self.summary = summary
        self.source = source
        self.severity = severity
        self.details = details
    }
}

/// An Alertmanager webhook notification (version 4), reduced to what the model needs.
public struct AlertmanagerNotification: Codable, Sendable, Equatable {
    /// One alert of the group, identified by its fingerprint.
    public struct Alert: Codable, Sendable, Equatable {
        public let fingerprint: String
        public let firing: Bool
        public let summary: String
        public init(fingerprint: String, firing: Bool, summary: String = "") {
            self.fingerprint = fingerprint
            self.firing = firing
            self.summary = summary
        }
    }
    public let routingKey: String
    public let groupKey: String
    public let severity: String
    public let alerts: [Alert]
    /// Labels, annotations and generator URL of every alert, as canonical JSON, kept on the ticket's
    /// timeline when they change; at most `DutyLimits.maxAlertDetailsBytes`.
    public let details: String?
    public init(routingKey: String, groupKey: String, severity: String = "critical", alerts: [Alert], details: String? = nil) {
        self.routingKey = routingKey
        self.groupKey = groupKey
        self.severity = severity
        self.alerts = alerts
        self.details = details
    }
}

/// One escalation step the scheduler records in a batch.
public struct EscalationStepRecord: Codable, Sendable, Equatable {
    public let ticketID: TicketID
    public let stepIndex: Int
    /// Storm control let every page of the step that is due now go at once: intend them in the same entry.
    public let intendDuePages: Bool

    public init(ticketID: TicketID, stepIndex: Int, intendDuePages: Bool) {
        self.ticketID = ticketID
        self.stepIndex = stepIndex
        self.intendDuePages = intendDuePages
    }
}

/// One SLA warning or breach the scheduler records in a batch.
public struct SLAEventRecord: Codable, Sendable, Equatable {
    public let ticketID: TicketID
    public let target: SLATarget
    public let isBreach: Bool
    /// True: SLA notices are from now on keyed by the clock's cycle (its due time) as well as by the ticket's
    /// reopenings (`DutyState.noticeKeysByCycle`), so a second update-interval cycle, started by a reply, warns under
    /// a key of its own instead of the first cycle's (which a receiver would drop as a repeat, or the outbox would
    /// skip). Nil in entries of leaders before 0.12, and absent from their bytes: a leader sets it only once every
    /// member runs 0.12, since older replicas would go on planning the old keys.
    public let keysNoticesByCycle: Bool?

    public init(ticketID: TicketID, target: SLATarget, isBreach: Bool, keysNoticesByCycle: Bool = true) {
        self.ticketID = ticketID
        self.target = target
        self.isBreach = isBreach
        self.keysNoticesByCycle = keysNoticesByCycle ? true : nil
    }

    /// This record as a leader whose cluster still has members before 0.12 proposes it.
    public var withNoticesKeyedByReopening: SLAEventRecord {
        SLAEventRecord(ticketID: ticketID, target: target, isBreach: isBreach, keysNoticesByCycle: false)
    }
}

/// A shift about to start on a schedule with hand-off reminders.
public struct HandoffReminder: Codable, Sendable, Equatable {
    public let scheduleID: String
    public let personID: String
    public let shiftStart: Timestamp
    public init(scheduleID: String, personID: String, shiftStart: Timestamp) {
        self.scheduleID = scheduleID
        self.personID = personID
        self.shiftStart = shiftStart
    }
}
