/// A Vigil release as MAJOR.MINOR.PATCH, exchanged by peers so that incompatible builds refuse each other
/// instead of misreading each other's frames.
public struct SoftwareVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: UInt16
    public let minor: UInt16
    public let patch: UInt16

    public init(major: UInt16, minor: UInt16, patch: UInt16) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses exactly three dot-separated decimal numbers, each at most 65535; nil otherwise.
    public init?(parsing text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let major = UInt16(parts[0]), let minor = UInt16(parts[1]), let patch = UInt16(parts[2]) else { return nil }
        self.init(major: major, minor: minor, patch: patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    /// Why a node running `self` must refuse a peer running `peer`, or nil when they interoperate.
    ///
    /// The rule behind a rolling upgrade: a release reads what the previous minor release of its major version
    /// writes, and skips frame kinds it does not know; across major versions, or two minor steps, nothing is
    /// promised, so the connection is refused rather than risk a misread.
    public func refusal(of peer: SoftwareVersion) -> String? {
        if peer.major != major {
            return "it runs Vigil \(peer) and this node runs \(self): nodes of different major versions never interoperate"
        }
        let distance = peer.minor > minor ? peer.minor - minor : minor - peer.minor
        if distance > 1 {
            return "it runs Vigil \(peer) and this node runs \(self): only adjacent minor versions interoperate; upgrade one minor version at a time"
        }
        return nil
    }
}
