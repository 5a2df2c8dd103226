import ArgumentParser
import Foundation
import Yams

/// `vigil apply -f FILE.yaml`: creates or updates people, teams, schedules, policies, services and more from
/// one file, so a team keeps its on-call set-up in git. Idempotent: objects that already match are left
/// alone (a policy gets a new version only when it really changed).
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Create or update the on-call set-up described in a YAML file.")

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .shortAndLong, help: "The YAML file (see deploy/examples/).") var file: String
    @Flag(name: .customLong("dry-run"), help: "Say what would change without changing it.") var dryRun = false

    /// Sections in dependency order, with the API collection each one is written to.
    static let sections: [(key: String, collection: String)] = [
        ("calendars", "calendars"), ("sla_policies", "sla-policies"), ("people", "people"), ("teams", "teams"),
        ("schedules", "schedules"), ("escalation_policies", "escalation-policies"), ("services", "services"),
        ("heartbeats", "heartbeats"), ("articles", "articles"), ("customers", "customers"),
    ]

    func run() async throws {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw fail("cannot read \(file): \((error as NSError).localizedDescription)", code: 2)
        }
        let document: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else { throw fail("\(file): the top level must be a mapping", code: 2) }
            document = loaded
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail("\(file): not valid YAML: \(error)", code: 2)
        }
        let known = Set(Self.sections.map(\.key))
        if let unknown = document.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail("\(file): unknown section '\(unknown)'; sections are \(Self.sections.map(\.key).joined(separator: ", "))", code: 2)
        }
        let connection = try self.connection.resolve()
        var created = 0, updated = 0, unchanged = 0
        for (key, collection) in Self.sections {
            guard let section = document[key] else { continue }
            guard let objects = section as? [[String: Any]] else { throw fail("\(file): '\(key)' must be a list of mappings", code: 2) }
            for (index, var object) in objects.enumerated() {
                guard let id = object["id"] as? String, !id.isEmpty else { throw fail("\(file): \(key)[\(index)] has no id", code: 2) }
                let keys = key == "services" ? (object.removeValue(forKey: "integration_keys") as? [String] ?? []) : []
                let current = try await connection.send(.GET, "/api/v1/\(collection)/\(id)")
                let exists = current.status == 200
                guard exists || current.status == 404 else {
                    throw fail("GET /api/v1/\(collection)/\(id): HTTP \(current.status): \(Connection.message(current.body))", code: Connection.Exit.refused)
                }
                var currentObject = exists ? (try? JSONSerialization.jsonObject(with: current.body)) : nil
                if exists, key == "people", object["contact_methods"] != nil, var person = currentObject as? [String: Any] {
                    // Contact data is shown only to managers, with the reading audited; without it, the
                    // person is written again (same content, so the state does not change).
                    let contacts = try await connection.send(.GET, "/api/v1/people/\(id)/contact-methods?reason=vigil%20apply")
                    if contacts.status == 200, let page = try? JSONSerialization.jsonObject(with: contacts.body) as? [String: Any] {
                        person["contact_methods"] = page["items"]
                        currentObject = person
                    }
                }
                if exists, key == "customers", object["email_addresses"] != nil {
                    let contact = try await connection.send(.GET, "/api/v1/customers/\(id)/contact?reason=vigil%20apply")
                    if contact.status == 200 { currentObject = try? JSONSerialization.jsonObject(with: contact.body) }
                }
                if let currentObject, Self.isSubset(object, of: currentObject) {
                    unchanged += 1
                } else {
                    print("\(exists ? "update" : "create") \(collection)/\(id)")
                    if !dryRun {
                        _ = try await connection.call(.PUT, "/api/v1/\(collection)/\(id)", body: try JSONSerialization.data(withJSONObject: object))
                    }
                    if exists { updated += 1 } else { created += 1 }
                }
                let present = Set(((currentObject as? [String: Any])?["integration_keys"] as? [String]) ?? [])
                for integrationKey in keys where !present.contains(integrationKey) {
                    print("add integration key to services/\(id)")
                    if !dryRun {
                        _ = try await connection.call(.POST, "/api/v1/services/\(id)/integration-keys",
                                                      body: try JSONSerialization.data(withJSONObject: ["key": integrationKey]))
                    }
                    updated += 1
                }
            }
        }
        print("\(dryRun ? "would create" : "created") \(created), \(dryRun ? "would update" : "updated") \(updated), unchanged \(unchanged)")
    }

    /// True when every key the file gives has the same value on the server (keys the file leaves out take
    /// the server's defaults and do not count as differences).
    static func isSubset(_ wanted: Any, of current: Any) -> Bool {
        switch (wanted, current) {
        case let (wanted as [String: Any], current as [String: Any]):
            return wanted.allSatisfy { key, value in current[key].map { isSubset(value, of: $0) } ?? (value is NSNull) }
        case let (wanted as [Any], current as [Any]):
            return wanted.count == current.count && zip(wanted, current).allSatisfy { isSubset($0, of: $1) }
        case let (wanted as NSNumber, current as NSNumber):
            return wanted == current
        case let (wanted as String, current as String):
            return wanted == current
        case (is NSNull, is NSNull):
            return true
        default:
            return "\(wanted)" == "\(current)"
        }
    }
}
