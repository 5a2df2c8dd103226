import Foundation
import NIOHTTP1
import Testing
import VigilNode

extension ProcessTests {
    /// The duty service over HTTP on a real 3-node TLS cluster, every request sent to a follower.
    @Suite("duty API on real processes", .serialized)
    struct DutyAPIProcessTests {
        static let routingKey = "0123456789abcdefghijklmnopqrstuv"

        /// A JSON object from an answer body, or an empty one.
        static func object(_ answer: ProcessCluster.HTTPAnswer?) -> [String: Any] {
            guard let answer, let value = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any] else { return [:] }
            return value
        }

        static func errorCode(_ answer: ProcessCluster.HTTPAnswer?) -> String? {
            (object(answer)["error"] as? [String: Any])?["code"] as? String
        }

        static func ticketCount(_ cluster: ProcessCluster, _ node: UInt64) async -> Int {
            let page = object(await cluster.request(node, .GET, "/api/v1/tickets?limit=500"))
            return (page["items"] as? [Any])?.count ?? -1
        }

        /// People, a team, a schedule, an escalation policy and a service with an integration key.
        static func setUpOnCall(_ cluster: ProcessCluster, via node: UInt64) async throws {
            let writes: [(HTTPMethod, String, String)] = [
                (.PUT, "/api/v1/people/alice", #"{"id":"alice","name":"Alice","role":"responder","time_zone_identifier":"Europe/Berlin","contact_methods":[{"id":"sms","kind":"sms","address":"+4915100000"}],"notification_rules":[{"contact_method_id":"sms","delay_minutes":0}]}"#),
                (.PUT, "/api/v1/people/bob", #"{"id":"bob","name":"Bob","role":"manager"}"#),
                (.PUT, "/api/v1/teams/ops", #"{"id":"ops","name":"Ops","member_ids":["alice","bob"]}"#),
                (.PUT, "/api/v1/schedules/primary", #"{"id":"primary","name":"Primary","time_zone_identifier":"Europe/Berlin","layers":[{"name":"weekly","user_ids":["alice","bob"],"rotation":"weekly","start_date":{"year":2026,"month":1,"day":5},"handoff_minute":540,"restrictions":[]}],"overrides":[]}"#),
                (.PUT, "/api/v1/escalation-policies/emergency", #"{"id":"emergency","name":"Emergency","levels":[{"targets":[{"schedule":"primary"}],"mode":"all","delay_minutes":5},{"targets":[{"team":"ops"}],"mode":"all","delay_minutes":10}],"repeat_count":1,"repeat_from_level":0}"#),
                (.PUT, "/api/v1/services/web", #"{"id":"web","name":"Web shop","team_id":"ops","escalation_policy_id":"emergency"}"#),
                (.POST, "/api/v1/services/web/integration-keys", #"{"key":"\#(routingKey)"}"#),
            ]
            for (method, path, body) in writes {
                let answer = await cluster.request(node, method, path, body: body)
                #expect(answer?.status == 200 || answer?.status == 201,
                        "\(method) \(path) → \(answer?.status ?? 0) \(String(decoding: answer?.body ?? Data(), as: UTF8.self))")
            }
        }

        @Test("PagerDuty v2 and Alertmanager intake open P1 tickets; ack and resolve on a follower; bad requests change nothing")
        func intakeAckResolve() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            for id in cluster.ids { try cluster.start(id) }
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)), "no leader in 30 s")
            let follower = cluster.ids.first { $0 != leader }!
            try await Self.setUpOnCall(cluster, via: follower)

            // PagerDuty: a trigger opens a ticket, the same dedup key adds to it.
            let trigger = #"{"routing_key":"\#(Self.routingKey)","event_action":"trigger","dedup_key":"disk-full-1","payload":{"summary":"Disk full on db1","source":"db1","severity":"critical","custom_details":{"free":"0%"}}}"#
            let first = await cluster.request(follower, .POST, "/v2/enqueue", body: trigger)
            #expect(first?.status == 202)
            #expect(Self.object(first)["status"] as? String == "success")
            #expect(Self.object(first)["dedup_key"] as? String == "disk-full-1")
            #expect(await cluster.request(follower, .POST, "/v2/enqueue", body: trigger)?.status == 202)
            let ticket = Self.object(await cluster.request(follower, .GET, "/api/v1/tickets/1"))
            #expect(ticket["priority"] as? String == "P1")
            #expect(ticket["alert_count"] as? Int == 2)
            #expect(ticket["stage"] as? String == "registered")
            // What PagerDuty sent beside the summary is kept on the ticket, once while it does not change.
            let kept = (ticket["timeline"] as? [[String: Any]] ?? []).compactMap { entry -> String? in
                ((entry["action"] as? [String: Any])?["alert_details"] as? [String: Any])?["json"] as? String
            }
            #expect(kept == [#"{"custom_details":{"free":"0%"}}"#], "\(kept)")

            // A change event lands on the service's timeline.
            let change = await cluster.request(follower, .POST, "/v2/change/enqueue",
                                               body: #"{"routing_key":"\#(Self.routingKey)","payload":{"summary":"Deploy v42","source":"ci","timestamp":"2026-11-29T10:00:00Z"},"links":[{"href":"https://ci.example.invalid/42"}]}"#)
            #expect(change?.status == 202)
            let changes = String(decoding: await cluster.request(follower, .GET, "/api/v1/services/web/changes")?.body ?? Data(), as: UTF8.self)
            #expect(changes.contains("Deploy v42"))

            // A trigger without a dedup key gets one generated and returned.
            let keyless = #"{"routing_key":"\#(Self.routingKey)","event_action":"trigger","payload":{"summary":"Latency high","source":"lb","severity":"warning"}}"#
            let generated = Self.object(await cluster.request(follower, .POST, "/v2/enqueue", body: keyless))["dedup_key"] as? String
            #expect(generated?.count == 32)

            // Alertmanager: a firing group opens a ticket; one of two alerts resolving keeps it open.
            func amBody(_ statuses: [String]) -> String {
                let alerts = statuses.enumerated().map { index, status in
                    #"{"status":"\#(status)","labels":{"alertname":"HighErrorRate","instance":"web\#(index)","severity":"critical"},"annotations":{"summary":"5xx above 5%"},"startsAt":"2026-11-29T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus/graph","fingerprint":"f\#(index)"}"#
                }.joined(separator: ",")
                return #"{"version":"4","groupKey":"{}:{alertname=\"HighErrorRate\"}","truncatedAlerts":0,"status":"firing","receiver":"vigil","groupLabels":{"alertname":"HighErrorRate"},"commonLabels":{"alertname":"HighErrorRate","severity":"critical"},"commonAnnotations":{},"externalURL":"http://alertmanager","alerts":[\#(alerts)]}"#
            }
            let amPath = "/api/v1/integrations/alertmanager/\(Self.routingKey)"
            let opened = Self.object(await cluster.request(follower, .POST, amPath, body: amBody(["firing", "firing"])))
            let amTicketID = try #require((opened["object"] as? [String: Any])?["id"] as? Int)
            #expect(await cluster.request(follower, .POST, amPath, body: amBody(["resolved", "firing"]))?.status == 200)
            #expect(Self.object(await cluster.request(follower, .GET, "/api/v1/tickets/\(amTicketID)"))["stage"] as? String == "registered")
            #expect(await cluster.request(follower, .POST, amPath, body: amBody(["resolved", "resolved"]))?.status == 200)
            #expect(Self.object(await cluster.request(follower, .GET, "/api/v1/tickets/\(amTicketID)"))["stage"] as? String == "feedback")

            // Acknowledge and resolve ticket 1 over REST on the follower.
            let acked = Self.object(await cluster.request(follower, .POST, "/api/v1/tickets/1/acknowledge"))
            #expect((acked["object"] as? [String: Any])?["acknowledged_at"] as? Int != nil)
            let resolved = Self.object(await cluster.request(follower, .POST, "/api/v1/tickets/1/resolve"))
            #expect((resolved["object"] as? [String: Any])?["stage"] as? String == "feedback")

            // The same from the CLI, pointed at the follower: ack and resolve an alert ticket.
            let cliTrigger = trigger.replacingOccurrences(of: "disk-full-1", with: "cli-1")
            #expect(await cluster.request(follower, .POST, "/v2/enqueue", body: cliTrigger)?.status == 202)
            let cliTicket = try #require((Self.object(await cluster.request(follower, .GET, "/api/v1/tickets?limit=500"))["items"] as? [[String: Any]])?
                .first { ($0["alert_key"] as? String)?.hasSuffix("/cli-1") == true }?["id"] as? Int)
            let cli = ["--cluster-dir", cluster.directory.path, "--endpoints", cluster.httpURL(follower)]
            let (ackStatus, ackOutput) = try ProcessCluster.runToEnd(cluster.binary, ["ticket", "ack", "\(cliTicket)"] + cli)
            #expect(ackStatus == 0, "vigil ticket ack: \(ackOutput)")
            #expect(ackOutput.split(separator: "\n").map(String.init) == ["ticket \(cliTicket) acknowledged; stage registered"], "one confirming line: \(ackOutput)")
            let (showStatus, showOutput) = try ProcessCluster.runToEnd(cluster.binary, ["ticket", "show", "\(cliTicket)"] + cli)
            #expect(showStatus == 0)
            // Instants as ISO 8601 in the local zone (2026-12-05T15:20:00Z here, where TZ is unset), not epoch milliseconds.
            #expect(showOutput.split(separator: "\n").contains { $0.hasPrefix("acknowledged_at: 20") && $0.contains("T") }, "\(showOutput)")
            let (yamlStatus, yamlOutput) = try ProcessCluster.runToEnd(cluster.binary, ["ticket", "show", "\(cliTicket)", "--output", "yaml"] + cli)
            #expect(yamlStatus == 0 && yamlOutput.contains("stage: registered"), "\(yamlOutput)")
            // A calendar feed from the CLI: its address serves the schedule's shifts with no token; revoked, it stops.
            let (feedStatus, feedOutput) = try ProcessCluster.runToEnd(cluster.binary, ["calendar-feed", "create", "--id", "cli-feed", "--schedule", "primary"] + cli)
            #expect(feedStatus == 0 && feedOutput.contains("/calendar/vgc_"), "\(feedOutput)")
            let feedPath = feedOutput.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: "://").last.map { String($0.drop { $0 != "/" }) } ?? ""
            let feed = await cluster.request(follower, .GET, feedPath, token: .some(nil))
            #expect(feed?.status == 200 && String(decoding: feed?.body ?? Data(), as: UTF8.self).contains("BEGIN:VEVENT"))
            let (listStatus, listOutput) = try ProcessCluster.runToEnd(cluster.binary, ["calendar-feed", "list"] + cli)
            #expect(listStatus == 0 && listOutput.contains("cli-feed") && !listOutput.contains("vgc_"), "\(listOutput)")
            let (revokeStatus, _) = try ProcessCluster.runToEnd(cluster.binary, ["calendar-feed", "revoke", "cli-feed"] + cli)
            #expect(revokeStatus == 0)
            #expect(await cluster.request(follower, .GET, feedPath, token: .some(nil))?.status == 404)
            let (resolveStatus, resolveOutput) = try ProcessCluster.runToEnd(cluster.binary, ["ticket", "resolve", "\(cliTicket)", "--output", "json"] + cli)
            #expect(resolveStatus == 0, "vigil ticket resolve: \(resolveOutput)")
            #expect(resolveOutput.contains("\"feedback\""))
            let shown = Self.object(await cluster.request(follower, .GET, "/api/v1/tickets/\(cliTicket)"))
            #expect(shown["stage"] as? String == "feedback")
            #expect(shown["acknowledged_by"] as? String == "token:bootstrap-admin")
            let (badTokenStatus, badTokenOutput) = try ProcessCluster.runToEnd(cluster.binary, ["ticket", "list", "--token", "vgl_wrong"] + cli)
            #expect(badTokenStatus == 4, "wrong token → exit 4: \(badTokenOutput)")
            #expect(badTokenOutput.split(separator: "\n").count == 1, "one line, no stack trace: \(badTokenOutput)")
            let (missingStatus, _) = try ProcessCluster.runToEnd(cluster.binary, ["ticket", "show", "9999"] + cli)
            #expect(missingStatus == 1)

            // A ticket registered over REST, commented and moved by hand.
            let created = await cluster.request(follower, .POST, "/api/v1/tickets",
                                                body: #"{"kind":"consultation","priority":"P3","title":"How do I reset my password?","service_id":"web"}"#)
            #expect(created?.status == 201)
            let createdID = try #require((Self.object(created)["object"] as? [String: Any])?["id"] as? Int)
            #expect(await cluster.request(follower, .POST, "/api/v1/tickets/\(createdID)/comment", body: #"{"text":"Looking into it","customer_visible":true}"#)?.status == 200)
            let moved = Self.object(await cluster.request(follower, .POST, "/api/v1/tickets/\(createdID)/transition", body: #"{"stage":"analysing"}"#))
            #expect((moved["object"] as? [String: Any])?["stage"] as? String == "analysing")

            // Bad requests: each gets the documented error and nothing changes.
            let before = await Self.ticketCount(cluster, follower)
            #expect(before == 5)
            let bad: [(HTTPMethod, String, String, Int, String?)] = [
                (.POST, "/api/v1/tickets", "{not json", 400, "invalid_json"),
                (.POST, "/api/v1/tickets", #"{"kind":"consultation","priority":"P3","title":"x","service_id":"web","colour":"red"}"#, 400, "unknown_field"),
                (.POST, "/api/v1/tickets", #"{"kind":"consultation","priority":"P9","title":"x","service_id":"web"}"#, 400, "invalid_field"),
                (.POST, "/api/v1/tickets", #"{"kind":"consultation","priority":"P3","title":"x","service_id":"nope"}"#, 404, "not_found"),
                (.POST, "/api/v1/tickets", #"{"kind":"consultation","priority":"P3","title":"x"}"#, 400, "missing_field"),
                (.POST, "/api/v1/tickets", "{\"title\":\"" + String(repeating: "x", count: 600_000) + "\"}", 413, "body_too_large"),
                (.POST, "/api/v1/tickets/1/transition", #"{"stage":"registered"}"#, 409, "illegal_transition"),
                (.POST, "/api/v1/tickets/99/acknowledge", "", 404, "not_found"),
                (.POST, "/api/v1/tickets/abc/acknowledge", "", 400, "invalid_parameter"),
                (.GET, "/api/v1/no-such-thing", "", 404, "no_route"),
            ]
            for (method, path, body, status, code) in bad {
                let answer = await cluster.request(follower, method, path, body: body.isEmpty ? nil : body)
                #expect(answer?.status == status, "\(path) \(body.prefix(60)) → \(answer?.status ?? 0)")
                #expect(Self.errorCode(answer) == code, "\(path) \(body.prefix(60)) → \(String(decoding: answer?.body.prefix(300) ?? Data(), as: UTF8.self))")
            }
            let invalidPD = await cluster.request(follower, .POST, "/v2/enqueue", body: #"{"routing_key":"short","event_action":"explode"}"#)
            #expect(invalidPD?.status == 400)
            #expect(Self.object(invalidPD)["status"] as? String == "invalid event")
            #expect((Self.object(invalidPD)["errors"] as? [String])?.count == 2)
            let unknownKey = await cluster.request(follower, .POST, "/v2/enqueue",
                                                   body: trigger.replacingOccurrences(of: Self.routingKey, with: String(repeating: "z", count: 32)))
            #expect(unknownKey?.status == 400)
            #expect(await Self.ticketCount(cluster, follower) == before)

            // Tokens and roles: issued on a follower, shown once; the wrong token or role changes nothing.
            let issued = await cluster.request(follower, .POST, "/api/v1/tokens", body: #"{"name":"watcher","role":"viewer"}"#)
            #expect(issued?.status == 201)
            let viewerToken = try #require(Self.object(issued)["token"] as? String)
            #expect(viewerToken.hasPrefix("vgl_"))
            let listed = String(decoding: await cluster.request(follower, .GET, "/api/v1/tokens")?.body ?? Data(), as: UTF8.self)
            #expect(listed.contains("watcher") && !listed.contains(viewerToken))
            #expect(await cluster.request(follower, .GET, "/api/v1/tickets/1", token: viewerToken)?.status == 200)
            let forbidden = await cluster.request(follower, .POST, "/api/v1/tickets/2/acknowledge", token: viewerToken)
            #expect(forbidden?.status == 403)
            #expect(Self.errorCode(forbidden) == "forbidden")
            #expect(await cluster.request(follower, .GET, "/api/v1/people/alice/contact-methods?reason=test", token: viewerToken)?.status == 403)
            let noToken = await cluster.request(follower, .POST, "/api/v1/tickets/2/acknowledge", token: .some(nil))
            #expect(noToken?.status == 401)
            #expect(Self.errorCode(noToken) == "unauthorized")
            #expect(await cluster.request(follower, .POST, "/api/v1/tickets/2/acknowledge", token: "vgl_not-a-real-token")?.status == 401)
            #expect(await cluster.request(follower, .GET, "/api/v1/tickets/2", token: "vgl_not-a-real-token")?.status == 401)
            #expect(Self.object(await cluster.request(follower, .GET, "/api/v1/tickets/2"))["acknowledged_at"] == nil)
            // People are listed without contact data; a manager reads it with a reason, and that is audited.
            let alice = String(decoding: await cluster.request(follower, .GET, "/api/v1/people/alice")?.body ?? Data(), as: UTF8.self)
            #expect(!alice.contains("+4915100000"))
            let bootstrapRead = await cluster.request(follower, .GET, "/api/v1/people/alice/contact-methods?reason=paging%20test")
            #expect(bootstrapRead?.status == 403, "contact reads must be attributable to a person")
            let managerToken = try #require(Self.object(await cluster.request(
                follower, .POST, "/api/v1/tokens", body: #"{"name":"bob-cli","role":"manager","person_id":"bob"}"#))["token"] as? String)
            let contact = String(decoding: await cluster.request(follower, .GET, "/api/v1/people/alice/contact-methods?reason=paging%20test",
                                                                 token: managerToken)?.body ?? Data(), as: UTF8.self)
            #expect(contact.contains("+4915100000"))
            #expect(await cluster.request(follower, .DELETE, "/api/v1/tokens/watcher")?.status == 200)
            #expect(await cluster.request(follower, .GET, "/api/v1/tickets/1", token: viewerToken)?.status == 401)

            // Every node applied the same tickets.
            for id in cluster.ids {
                #expect(Self.object(await cluster.request(id, .GET, "/api/v1/tickets/1?consistency=local"))["stage"] as? String == "feedback")
            }
        }
    }
}
