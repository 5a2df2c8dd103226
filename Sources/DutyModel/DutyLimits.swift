/// Upper bounds on everything a command can grow, so one bad client cannot exhaust a node.
public enum DutyLimits {
    public static let maxIdentifierLength = 64
    public static let maxTitleLength = 200
    public static let maxTextLength = 10_000
    public static let maxTimelineEntriesPerTicket = 2_000
    public static let maxTickets = 50_000_000
    /// Items in one scheduler batch (SLA events, acknowledgement expiries): one log entry of a few tens of KB.
    public static let maxSchedulerBatch = 1_000
    public static let maxPeople = 100_000
    public static let maxTeams = 10_000
    public static let maxTeamMembers = 1_000
    public static let maxContactMethodsPerPerson = 20
    public static let maxNotificationRulesPerPerson = 20
    public static let maxSchedules = 10_000
    public static let maxLayersPerSchedule = 20
    public static let maxUsersPerLayer = 200
    public static let maxRestrictionsPerLayer = 50
    public static let maxOverridesPerSchedule = 5_000
    public static let maxEscalationLevels = 20
    public static let maxTargetsPerLevel = 50
    public static let maxEscalationRepeats = 20
    public static let maxPolicyVersions = 1_000
    public static let maxPolicies = 10_000
    public static let maxCalendars = 1_000
    public static let maxWorkingWindowsPerCalendar = 50
    public static let maxHolidaysPerCalendar = 2_000
    public static let maxServices = 10_000
    public static let maxIntegrationKeysPerService = 20
    public static let maxMaintenanceWindowsPerService = 500
    public static let maxArticles = 50_000
    public static let maxSuggestedArticles = 3
    public static let maxSampleSize = 10_000
    public static let maxSamples = 10_000
    public static let maxMonitors = 10_000
    public static let maxCustomers = 1_000_000
    public static let maxAddressesPerCustomer = 20
    /// Message-IDs kept for threading and for recognising a message delivered twice.
    public static let maxMailThreads = 200_000
    public static let maxAttachmentsPerMessage = 20
    /// Customer mail waiting in the outbox; beyond it new mail is not queued (the ticket still records the comment).
    public static let maxCustomerMailQueued = 100_000
    /// Pages waiting for an outcome; reaching it means the channels have been failing for a long time.
    public static let maxOutboxPages = 100_000
    public static let maxPagesPerCommand = 256
    /// Alert details (PagerDuty custom_details and links, Alertmanager labels) kept per event.
    public static let maxAlertDetailsBytes = 16_384
    public static let maxInspectionResultsKept = 500
    public static let maxFiringAlertsPerGroup = 1_000
    public static let maxAuditEntriesKept = 10_000
    /// Business-time searches give up after this many days (a calendar that is all holidays).
    public static let maxBusinessSearchDays = 3_660
    public static let maxScheduleSpanDays = 400
    /// Change events kept per service (the log keeps them all).
    static let maxChangesPerService = 200
    static let maxLinksPerChange = 20
}
