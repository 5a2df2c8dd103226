extension DutyState {
    func serviceID(forRoutingKey key: String) throws(DutyError) -> String {
        guard let serviceID = integrationKeys[key] else { throw .notFound("routingKey", "unknown integration key") }
        return serviceID
    }

    private static func alertTitle(_ summary: String, fallback: String) -> String {
        let trimmed = String(summary.trimmingWhitespace())
        let title = trimmed.isEmpty ? fallback : trimmed
        return String(title.prefix(DutyLimits.maxTitleLength))
    }

    static func validateDetails(_ details: String?) -> DutyError? {
        guard let details, details.utf8.count > DutyLimits.maxAlertDetailsBytes else { return nil }
        return .limit("details", "alert details are at most \(DutyLimits.maxAlertDetailsBytes) bytes")
    }

    /// Keeps what the source sent on the timeline, unless the ticket's last details say the same.
    mutating func recordDetails(_ details: String?, source: String, on ticketID: TicketID, _ context: inout ApplyContext) {
        guard let details, !details.isEmpty else { return }
        let last = tickets.live[ticketID]!.timeline.last { if case .alertDetails = $0.action { true } else { false } }
        if case let .alertDetails(_, json)? = last?.action, json == details { return }
        tickets.live[ticketID]!.append(.alertDetails(source: source, json: details), at: context.at, actor: context.actor)
    }

    /// PagerDuty Events v2: one open ticket per (routing key, dedup key).
    mutating func handlePagerDuty(_ event: PagerDutyEvent, _ context: inout ApplyContext) throws(DutyError) {
        let serviceID = try serviceID(forRoutingKey: event.routingKey)
        if let error = Self.validateDetails(event.details) { throw error }
        if let dedupKey = event.dedupKey {
            if dedupKey.isEmpty || dedupKey.utf8.count > 255 { throw .invalid("dedupKey", "must be 1–255 bytes") }
        }
        if let error = Validate.text(event.summary, field: "summary") { throw error }
        switch event.action {
        case .trigger:
            if let dedupKey = event.dedupKey, let ticketID = openAlerts["\(event.routingKey)/\(dedupKey)"] {
                tickets.live[ticketID]!.alertCount += 1
                tickets.live[ticketID]!.append(.alertTriggered(dedupKey: dedupKey, summary: String(event.summary.prefix(DutyLimits.maxTitleLength))),
                                      at: context.at, actor: context.actor)
                recordDetails(event.details, source: "pagerduty", on: ticketID, &context)
                context.emit(.alertDeduplicated(ticketID, dedupKey: dedupKey, alertCount: tickets.live[ticketID]!.alertCount))
                return
            }
            let dedupKey = event.dedupKey ?? "ticket-\(tickets.count + 1)"
            let key = "\(event.routingKey)/\(dedupKey)"
            let priority = Priority(severity: event.severity)
            let new = NewTicket(kind: priority == .p1 ? .emergency : .incident, priority: priority,
                                title: Self.alertTitle(event.summary, fallback: "Alert \(dedupKey)"),
                                description: event.source, serviceID: serviceID)
            if let error = validateNewTicket(new) { throw error }
            let id = openTicket(new, alertKey: key, &context)
            openAlerts[key] = id
            tickets.live[id]!.append(.alertTriggered(dedupKey: dedupKey, summary: new.title), at: context.at, actor: context.actor)
            recordDetails(event.details, source: "pagerduty", on: id, &context)
        case .acknowledge, .resolve:
            guard let dedupKey = event.dedupKey else { throw .invalid("dedupKey", "\(event.action.rawValue) needs a dedup key") }
            guard let ticketID = openAlerts["\(event.routingKey)/\(dedupKey)"] else {
                throw .notFound("dedupKey", "no open alert '\(dedupKey)' for this integration key")
            }
            if event.action == .acknowledge {
                guard tickets.live[ticketID]!.acknowledgedAt == nil else { throw .conflict("dedupKey", "alert '\(dedupKey)' is already acknowledged") }
                tickets.live[ticketID]!.append(.alertAcknowledged(dedupKey: dedupKey), at: context.at, actor: context.actor)
                markAcknowledged(ticketID, &context)
            } else {
                try resolveAlertTicket(ticketID, dedupKey: dedupKey, &context)
            }
        }
    }

    /// An alert resolved by its source walks the ticket forward to the feedback stage, one legal step at a time.
    private mutating func resolveAlertTicket(_ ticketID: TicketID, dedupKey: String, _ context: inout ApplyContext) throws(DutyError) {
        guard tickets.live[ticketID]!.hasRoomInTimeline else {
            throw .limit("dedupKey", "ticket \(ticketID) reached its timeline limit")
        }
        tickets.live[ticketID]!.append(.alertResolved(dedupKey: dedupKey), at: context.at, actor: context.actor)
        context.emit(.alertResolved(ticketID, dedupKey: dedupKey))
        for stage in TicketLifecycle.path(from: tickets.live[ticketID]!.stage, to: .feedback) {
            moveStage(ticketID, to: stage, &context)
        }
    }

    /// Alertmanager: one ticket per group key; it stays open while any fingerprint fires.
    mutating func handleAlertmanager(_ notification: AlertmanagerNotification, _ context: inout ApplyContext) throws(DutyError) {
        let serviceID = try serviceID(forRoutingKey: notification.routingKey)
        if notification.groupKey.isEmpty || notification.groupKey.utf8.count > 1024 { throw .invalid("groupKey", "must be 1–1024 bytes") }
        if notification.alerts.isEmpty { throw .invalid("alerts", "a notification carries at least one alert") }
        if let error = Self.validateDetails(notification.details) { throw error }
        if notification.alerts.count > DutyLimits.maxFiringAlertsPerGroup {
            throw .limit("alerts", "at most \(DutyLimits.maxFiringAlertsPerGroup) alerts per notification")
        }
        for (index, alert) in notification.alerts.enumerated() where alert.fingerprint.isEmpty || alert.fingerprint.utf8.count > 64 {
            throw .invalid("alerts[\(index)].fingerprint", "must be 1–64 bytes")
        }
        let key = "\(notification.routingKey)/\(notification.groupKey)"
        var firing = Set(alertGroups[key]?.firingFingerprints ?? [])
        for alert in notification.alerts {
            if alert.firing { firing.insert(alert.fingerprint) } else { firing.remove(alert.fingerprint) }
        }
        if firing.count > DutyLimits.maxFiringAlertsPerGroup { throw .limit("alerts", "too many firing alerts in group") }
        if let group = alertGroups[key] {
            let ticketID = group.ticketID
            if firing.isEmpty, !tickets.live[ticketID]!.hasRoomInTimeline {
                throw .limit("groupKey", "ticket \(ticketID) reached its timeline limit")
            }
            tickets.live[ticketID]!.alertCount += 1
            let summary = notification.alerts.map { "\($0.firing ? "firing" : "resolved") \($0.fingerprint)" }.joined(separator: ", ")
            tickets.live[ticketID]!.append(.alertTriggered(dedupKey: notification.groupKey, summary: String(summary.prefix(DutyLimits.maxTitleLength))),
                                  at: context.at, actor: context.actor)
            recordDetails(notification.details, source: "alertmanager", on: ticketID, &context)
            context.emit(.alertDeduplicated(ticketID, dedupKey: notification.groupKey, alertCount: tickets.live[ticketID]!.alertCount))
            if firing.isEmpty {
                alertGroups[key] = nil
                try resolveAlertTicket(ticketID, dedupKey: notification.groupKey, &context)
            } else {
                alertGroups[key]!.firingFingerprints = firing.sorted()
            }
            return
        }
        // A group seen for the first time with nothing firing has nothing to open.
        guard !firing.isEmpty else { return }
        let priority = Priority(severity: notification.severity)
        let firstSummary = notification.alerts.first { $0.firing }?.summary ?? ""
        let new = NewTicket(kind: priority == .p1 ? .emergency : .incident, priority: priority,
                            title: Self.alertTitle(firstSummary, fallback: "Alert group \(notification.groupKey)"),
                            description: notification.groupKey, serviceID: serviceID)
        if let error = validateNewTicket(new) { throw error }
        let id = openTicket(new, alertKey: key, &context)
        alertGroups[key] = AlertGroup(ticketID: id, firingFingerprints: firing.sorted())
        tickets.live[id]!.append(.alertTriggered(dedupKey: notification.groupKey, summary: new.title), at: context.at, actor: context.actor)
        recordDetails(notification.details, source: "alertmanager", on: id, &context)
    }

    mutating func upsertHeartbeatMonitor(_ id: String, serviceID: String, intervalSeconds: Int64, graceSeconds: Int64,
                                         _ context: inout ApplyContext) throws(DutyError) {
        if let error = Validate.identifier(id, field: "monitorID") { throw error }
        guard services[serviceID] != nil else { throw .notFound("serviceID", "no service '\(serviceID)'") }
        guard (10...(7 * 86_400)).contains(intervalSeconds) else { throw .invalid("intervalSeconds", "must be 10 s … 7 days") }
        guard (0...86_400).contains(graceSeconds) else { throw .invalid("graceSeconds", "must be 0 … 1 day") }
        if heartbeatMonitors[id] == nil, heartbeatMonitors.count >= DutyLimits.maxMonitors {
            throw .limit("monitorID", "at most \(DutyLimits.maxMonitors) monitors")
        }
        var monitor = HeartbeatMonitor(id: id, serviceID: serviceID, intervalSeconds: intervalSeconds,
                                       graceSeconds: graceSeconds, lastPingAt: context.at)
        monitor.openIncidentID = heartbeatMonitors[id]?.openIncidentID
        heartbeatMonitors[id] = monitor
        context.emit(.configurationChanged(entity: "heartbeat", id: id))
    }

    mutating func heartbeatPing(_ id: String, _ context: inout ApplyContext) throws(DutyError) {
        guard heartbeatMonitors[id] != nil else { throw .notFound("monitorID", "no heartbeat monitor '\(id)'") }
        heartbeatMonitors[id]!.lastPingAt = context.at
        heartbeatMonitors[id]!.openIncidentID = nil
        context.emit(.heartbeatReceived(monitorID: id))
    }

    /// Proposed by the leader's scheduler once the deadline passed; replicas re-check it.
    mutating func heartbeatMissed(_ id: String, _ context: inout ApplyContext) throws(DutyError) {
        guard let monitor = heartbeatMonitors[id] else { throw .notFound("monitorID", "no heartbeat monitor '\(id)'") }
        guard context.at >= monitor.deadline else { throw DutyError(.notDue, field: "monitorID", "the heartbeat is due until \(monitor.deadline)") }
        if let open = monitor.openIncidentID { throw .conflict("monitorID", "incident \(open) is already open for this miss") }
        let new = NewTicket(kind: .incident, priority: .p1, title: "Heartbeat '\(id)' missed",
                            description: "no ping since \(monitor.lastPingAt)", serviceID: monitor.serviceID)
        if let error = validateNewTicket(new) { throw error }
        let ticketID = openTicket(new, &context)
        heartbeatMonitors[id]!.openIncidentID = ticketID
        context.emit(.heartbeatMissed(monitorID: id, ticketID: ticketID))
    }

    mutating func upsertChannelInspection(_ id: String, channel: String, timesPerDay: Int, serviceID: String?,
                                          _ context: inout ApplyContext) throws(DutyError) {
        if let error = Validate.identifier(id, field: "inspectionID") { throw error }
        if let error = Validate.identifier(channel, field: "channel") { throw error }
        guard (1...288).contains(timesPerDay) else { throw .invalid("timesPerDay", "must be 1…288") }
        if let serviceID {
            if let error = Validate.identifier(serviceID, field: "serviceID") { throw error }
            guard services[serviceID] != nil else { throw .notFound("serviceID", "no service '\(serviceID)'") }
        }
        if channelInspections[id] == nil, channelInspections.count >= DutyLimits.maxMonitors {
            throw .limit("inspectionID", "at most \(DutyLimits.maxMonitors) inspections")
        }
        let existing = channelInspections[id]
        channelInspections[id] = ChannelInspection(id: id, channel: channel, timesPerDay: timesPerDay, serviceID: serviceID,
                                                   openTicketID: existing?.openTicketID, createdAt: context.at,
                                                   results: existing?.results ?? [], droppedResults: existing?.droppedResults ?? 0)
        context.emit(.configurationChanged(entity: "channelInspection", id: id))
    }

    mutating func recordInspectionResult(_ id: String, passed: Bool, detail: String, _ context: inout ApplyContext) throws(DutyError) {
        guard channelInspections[id] != nil else { throw .notFound("inspectionID", "no channel inspection '\(id)'") }
        if detail.utf8.count > 1_000 { throw .limit("detail", "at most 1000 bytes") }
        let result = ChannelInspection.Result(at: context.at, passed: passed, detail: detail, actor: context.actor)
        if channelInspections[id]!.results.count >= DutyLimits.maxInspectionResultsKept {
            channelInspections[id]!.results.removeFirst()
            channelInspections[id]!.droppedResults += 1
        }
        channelInspections[id]!.results.append(result)
        context.emit(.inspectionRecorded(inspectionID: id, passed: passed))
        // S8: a failing channel becomes work for the service's team, once per failure streak.
        if passed {
            channelInspections[id]!.openTicketID = nil
        } else if let serviceID = channelInspections[id]!.serviceID, channelInspections[id]!.openTicketID == nil, services[serviceID] != nil {
            let channel = channelInspections[id]!.channel
            let new = NewTicket(kind: .incident, priority: .p3, title: "Channel inspection '\(id)' failed (\(channel))",
                                description: detail, serviceID: serviceID)
            if validateNewTicket(new) == nil {
                channelInspections[id]!.openTicketID = openTicket(new, &context)
            }
        }
    }
}
