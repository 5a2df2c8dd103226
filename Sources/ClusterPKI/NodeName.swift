/// The DNS name that identifies a node in certificates and TLS SNI: `node<ID>`, e.g. `node1`.
///
/// The name is strict (lower case, decimal without leading zeros) so that one id has exactly one name
/// and a certificate cannot smuggle a second spelling of someone else's identity.
public enum NodeName {
    static let prefix = "node"

    /// The canonical name of `id`.
    public static func make(_ id: UInt64) -> String { prefix + String(id) }

    /// The id named by `name`, or nil when `name` is not a canonical node name.
    public static func parse(_ name: String) -> UInt64? {
        guard name.hasPrefix(prefix) else { return nil }
        let digits = name.utf8.dropFirst(prefix.utf8.count)
        guard let first = digits.first, first != UInt8(ascii: "0"), digits.count <= 20 else { return nil }
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(Substring(digits))
    }
}
