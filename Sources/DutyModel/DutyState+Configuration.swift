extension DutyState {
    mutating func upsertCalendar(_ calendar: BusinessCalendar, _ context: inout ApplyContext) throws(DutyError) {
        if let error = calendar.validate() { throw error }
        if calendars[calendar.id] == nil, calendars.count >= DutyLimits.maxCalendars {
            throw .limit("calendar.id", "at most \(DutyLimits.maxCalendars) calendars")
        }
        calendars[calendar.id] = calendar
        context.emit(.configurationChanged(entity: "calendar", id: calendar.id))
    }

    mutating func upsertSLAPolicy(_ draft: SLAPolicy.Draft, _ context: inout ApplyContext) throws(DutyError) {
        if let error = draft.validate(calendars: calendars) { throw error }
        let versions = slaPolicies[draft.id] ?? []
        if versions.isEmpty, slaPolicies.count >= DutyLimits.maxPolicies { throw .limit("slaPolicy.id", "at most \(DutyLimits.maxPolicies) policies") }
        if versions.count >= DutyLimits.maxPolicyVersions { throw .limit("slaPolicy.id", "at most \(DutyLimits.maxPolicyVersions) versions") }
        let policy = SLAPolicy(id: draft.id, version: versions.count + 1, name: draft.name, rules: draft.rules,
                               calendarID: draft.calendarID, warningThresholdPercent: draft.warningThresholdPercent,
                               createdAt: context.at)
        slaPolicies[draft.id, default: []].append(policy)
        context.emit(.policyAnnounced(PolicyAnnouncement(
            policyKind: .sla, policyID: policy.id, version: policy.version,
            summary: "SLA policy '\(policy.name)' version \(policy.version): \(policy.rules.count) targets, warning at \(policy.warningThresholdPercent)%")))
    }

    mutating func upsertEscalationPolicy(_ draft: EscalationPolicy.Draft, _ context: inout ApplyContext) throws(DutyError) {
        if let error = draft.validate(people: people, teams: teams, schedules: schedules) { throw error }
        let versions = escalationPolicies[draft.id] ?? []
        if versions.isEmpty, escalationPolicies.count >= DutyLimits.maxPolicies {
            throw .limit("escalationPolicy.id", "at most \(DutyLimits.maxPolicies) policies")
        }
        if versions.count >= DutyLimits.maxPolicyVersions { throw .limit("escalationPolicy.id", "at most \(DutyLimits.maxPolicyVersions) versions") }
        let policy = EscalationPolicy(id: draft.id, version: versions.count + 1, name: draft.name, levels: draft.levels,
                                      repeatCount: draft.repeatCount, repeatFromLevel: draft.repeatFromLevel, createdAt: context.at)
        escalationPolicies[draft.id, default: []].append(policy)
        context.emit(.policyAnnounced(PolicyAnnouncement(
            policyKind: .escalation, policyID: policy.id, version: policy.version,
            summary: "Escalation policy '\(policy.name)' version \(policy.version): \(policy.levels.count) levels, \(policy.stepCount) steps")))
    }

    mutating func upsertPerson(_ person: Person, _ context: inout ApplyContext) throws(DutyError) {
        if let error = person.validate() { throw error }
        if people[person.id] == nil, people.count >= DutyLimits.maxPeople { throw .limit("person.id", "at most \(DutyLimits.maxPeople) people") }
        people[person.id] = person
        context.emit(.configurationChanged(entity: "person", id: person.id))
    }

    mutating func upsertTeam(_ team: Team, _ context: inout ApplyContext) throws(DutyError) {
        if let error = team.validate(people: people) { throw error }
        if teams[team.id] == nil, teams.count >= DutyLimits.maxTeams { throw .limit("team.id", "at most \(DutyLimits.maxTeams) teams") }
        teams[team.id] = team
        context.emit(.configurationChanged(entity: "team", id: team.id))
    }

    mutating func upsertSchedule(_ schedule: OnCallSchedule, _ context: inout ApplyContext) throws(DutyError) {
        if let error = schedule.validate(people: people) { throw error }
        if schedules[schedule.id] == nil, schedules.count >= DutyLimits.maxSchedules {
            throw .limit("schedule.id", "at most \(DutyLimits.maxSchedules) schedules")
        }
        schedules[schedule.id] = schedule
        context.emit(.configurationChanged(entity: "schedule", id: schedule.id))
    }

    mutating func addScheduleOverride(_ scheduleID: String, _ override: OnCallSchedule.Override, _ context: inout ApplyContext) throws(DutyError) {
        guard let schedule = schedules[scheduleID] else { throw .notFound("scheduleID", "no schedule '\(scheduleID)'") }
        if let error = OnCallSchedule.validate(override, people: people, field: "override") { throw error }
        if schedule.overrides.count >= DutyLimits.maxOverridesPerSchedule {
            throw .limit("override", "at most \(DutyLimits.maxOverridesPerSchedule) overrides per schedule")
        }
        schedules[scheduleID]!.overrides.append(override)
        context.emit(.configurationChanged(entity: "schedule", id: scheduleID))
    }

    mutating func removeScheduleOverride(_ scheduleID: String, _ override: OnCallSchedule.Override, _ context: inout ApplyContext) throws(DutyError) {
        guard let schedule = schedules[scheduleID] else { throw .notFound("scheduleID", "no schedule '\(scheduleID)'") }
        guard let index = schedule.overrides.lastIndex(of: override) else {
            throw .notFound("override", "schedule '\(scheduleID)' has no such override")
        }
        schedules[scheduleID]!.overrides.remove(at: index)
        context.emit(.configurationChanged(entity: "schedule", id: scheduleID))
    }

    mutating func upsertService(_ service: Service, _ context: inout ApplyContext) throws(DutyError) {
        if let error = Validate.identifier(service.id, field: "service.id") { throw error }
        if let error = Validate.title(service.name, field: "service.name") { throw error }
        if let teamID = service.teamID, teams[teamID] == nil { throw .notFound("service.teamID", "no team '\(teamID)'") }
        if let policyID = service.escalationPolicyID, escalationPolicies[policyID] == nil {
            throw .notFound("service.escalationPolicyID", "no escalation policy '\(policyID)'")
        }
        if let policyID = service.slaPolicyID, slaPolicies[policyID] == nil {
            throw .notFound("service.slaPolicyID", "no SLA policy '\(policyID)'")
        }
        if let seconds = service.acknowledgementTimeoutSeconds, !(10...86_400).contains(seconds) {
            throw .invalid("service.acknowledgementTimeoutSeconds", "must be 10…86400 (or absent: acknowledgements last)")
        }
        if services[service.id] == nil, services.count >= DutyLimits.maxServices { throw .limit("service.id", "at most \(DutyLimits.maxServices) services") }
        var stored = service
        // Keys and windows are managed by their own commands; an upsert keeps them.
        stored.integrationKeys = services[service.id]?.integrationKeys ?? []
        stored.maintenanceWindows = services[service.id]?.maintenanceWindows ?? []
        services[service.id] = stored
        context.emit(.configurationChanged(entity: "service", id: service.id))
    }

    mutating func addIntegrationKey(_ serviceID: String, _ key: String, _ context: inout ApplyContext) throws(DutyError) {
        guard let service = services[serviceID] else { throw .notFound("serviceID", "no service '\(serviceID)'") }
        if let error = Service.validateIntegrationKey(key) { throw error }
        if let owner = integrationKeys[key] { throw .conflict("integrationKey", "already belongs to service '\(owner)'") }
        if service.integrationKeys.count >= DutyLimits.maxIntegrationKeysPerService {
            throw .limit("integrationKey", "at most \(DutyLimits.maxIntegrationKeysPerService) keys per service")
        }
        services[serviceID]!.integrationKeys.append(key)
        integrationKeys[key] = serviceID
        context.emit(.configurationChanged(entity: "service", id: serviceID))
    }

    mutating func addMaintenanceWindow(_ serviceID: String, _ window: Service.MaintenanceWindow, _ context: inout ApplyContext) throws(DutyError) {
        guard let service = services[serviceID] else { throw .notFound("serviceID", "no service '\(serviceID)'") }
        if let error = Validate.timestamp(window.start, field: "window.start") ?? Validate.timestamp(window.end, field: "window.end") { throw error }
        if window.end <= window.start { throw .invalid("window.end", "must be after start") }
        if window.end - window.start > 31 * Millis.day { throw .limit("window.end", "a maintenance window lasts at most 31 days") }
        if let error = Validate.title(window.reason, field: "window.reason") { throw error }
        if service.maintenanceWindows.count >= DutyLimits.maxMaintenanceWindowsPerService {
            throw .limit("window", "at most \(DutyLimits.maxMaintenanceWindowsPerService) windows per service")
        }
        services[serviceID]!.maintenanceWindows.append(window)
        context.emit(.configurationChanged(entity: "service", id: serviceID))
    }

    mutating func setCustomerSLAOverride(_ customerID: String, _ policyID: String?, _ context: inout ApplyContext) throws(DutyError) {
        if let error = Validate.identifier(customerID, field: "customerID") { throw error }
        if let policyID, slaPolicies[policyID] == nil { throw .notFound("slaPolicyID", "no SLA policy '\(policyID)'") }
        customerSLAOverrides[customerID] = policyID
        context.emit(.configurationChanged(entity: "customer", id: customerID))
    }

    /// S15: customer contract first, then the service's policy, then the default.
    func resolveSLAPolicy(serviceID: String, customerID: String?) -> SLAPolicy {
        if let customerID, let id = customerBook.customers[customerID]?.slaPolicyID ?? customerSLAOverrides[customerID],
           let policy = latestSLAPolicy(id) { return policy }
        if let id = services[serviceID]?.slaPolicyID, let policy = latestSLAPolicy(id) { return policy }
        return latestSLAPolicy(Self.defaultSLAPolicyID)!
    }
}
