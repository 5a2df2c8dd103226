/// Why a channel's configuration was refused; the message names the setting.
public struct PagingConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The setting at fault, e.g. "webhook.secret" or "gateway.body".
    public let setting: String
    public let reason: String

    public init(_ setting: String, _ reason: String) {
        self.setting = setting
        self.reason = reason
    }

    public var description: String { "\(setting): \(reason)" }
}
