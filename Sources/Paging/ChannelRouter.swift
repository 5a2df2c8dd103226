import DutyModel

/// Which channel delivers a contact method of each kind; the operator configures e-mail and the
/// SMS/voice gateways, webhooks and chat need nothing beyond the address.
public struct ChannelRouter: Sendable {
    private let channels: [ContactMethod.Kind: any NotificationChannel]

    public init(_ channels: [ContactMethod.Kind: any NotificationChannel]) {
        self.channels = channels
    }

    public func channel(for kind: ContactMethod.Kind) -> (any NotificationChannel)? { channels[kind] }

    /// The kinds with a channel, for the startup log.
    public var configuredKinds: [ContactMethod.Kind] { ContactMethod.Kind.allCases.filter { channels[$0] != nil } }
}
