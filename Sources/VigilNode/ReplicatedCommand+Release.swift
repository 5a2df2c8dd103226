import ClusterTransport
import NodeState

extension ReplicatedCommand {
    /// The release every member must run before this command may be proposed: an older replica would count the
    /// entry as undecodable and skip it, and the replicas' states would part.
    var requiredRelease: SoftwareVersion? {
        switch self {
        case .tokens(.create), .tokens(.revoke), .settings: return nil
        case .tokens: return Self.consoleSince
        case .duty(let proposal):
            switch proposal.command {
            case .removeScheduleOverride: return Self.consoleSince
            case .upsertCustomer, .removeCustomer, .recordCustomerContactAccess, .receiveMail: return Self.mailSince
            default: return nil
            }
        }
    }

    static let consoleSince = SoftwareVersion(major: 0, minor: 10, patch: 0)
    /// Customers and their mail.
    static let mailSince = SoftwareVersion(major: 0, minor: 11, patch: 0)
}
