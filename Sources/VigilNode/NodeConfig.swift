import Foundation
import RaftCore
import Yams

/// One node's `vigil.yaml`: identity, addresses, TLS files, Raft timing and the founding members.
public struct NodeConfig: Codable, Sendable, Equatable {
    public var clusterID: String
    public var nodeID: NodeID
    /// Relative paths are resolved against the directory of the config file.
    public var dataDir: String
    public var peerListen: HostPort
    public var httpListen: HostPort
    public var tls: TLSFiles
    public var raft: RaftTiming
    /// The client API: TLS and authentication. Absent in a file means the secure defaults.
    public var api: APISettings
    /// The leader's pager: secrets, links, storm control, channels. Absent in a file: defaults, no secrets.
    public var paging: PagingSettings
    public var members: [Member]
    /// A node added to a running cluster (`vigil member add`) starts with an empty log and waits for the leader
    /// instead of founding a cluster of the members listed here.
    public var join: Bool = false
    /// How the node writes its log lines.
    public var log: LogSettings = LogSettings()
    /// Scheduled backups of this node's applied state; absent: none.
    public var backup: BackupSettings?
    /// Intakes beside HTTP (customers' e-mail); absent: none.
    public var intake: IntakeSettings?

    /// `vigil backup` on a timer: every node writes the state it has applied into `directory` (relative paths are
    /// relative to this file), keeping the newest `keep` files.
    public struct BackupSettings: Codable, Sendable, Equatable {
        public var directory: String
        /// Minutes between backups; fractions allowed (at least 0.05, three seconds, for drills).
        public var everyMinutes: Double
        public var keep: Int

        enum CodingKeys: String, CodingKey {
            case directory, keep
            case everyMinutes = "every_minutes"
        }

        public init(directory: String, everyMinutes: Double, keep: Int) {
            self.directory = directory
            self.everyMinutes = everyMinutes
            self.keep = keep
        }
    }

    /// `text` (one human-readable line per record) or `json` (one JSON object per line, for journald and log shippers).
    public struct LogSettings: Codable, Sendable, Equatable {
        public var format: String = "text"
        public static let formats = ["text", "json"]
        public init(format: String = "text") { self.format = format }
    }

    /// How the client API is served and who may use it.
    public struct APISettings: Codable, Sendable, Equatable {
        /// HTTPS for the client API; plain HTTP only when a config says `tls: false`.
        public var tls: Bool
        /// The API's own certificate and key (PEM); absent: the node's certificate, issued by the cluster CA.
        public var cert: String?
        public var key: String?
        /// SHA-256 (hex) of the bootstrap admin token `vigil init` wrote to `DIR/admin.token`; the token
        /// itself is never stored by a node.
        public var bootstrapTokenSHA256: String?
        /// Token bucket per API token and per integration key: sustained requests per second (burst: twice).
        public var tokenRequestsPerSecond: Int
        public var integrationRequestsPerSecond: Int

        enum CodingKeys: String, CodingKey {
            case tls, cert, key
            case bootstrapTokenSHA256 = "bootstrap_token_sha256"
            case tokenRequestsPerSecond = "token_requests_per_second"
            case integrationRequestsPerSecond = "integration_requests_per_second"
        }

        public init(tls: Bool = true, cert: String? = nil, key: String? = nil, bootstrapTokenSHA256: String? = nil,
                    tokenRequestsPerSecond: Int = 500, integrationRequestsPerSecond: Int = 200) {
            self.tls = tls
            self.cert = cert
            self.key = key
            self.bootstrapTokenSHA256 = bootstrapTokenSHA256
            self.tokenRequestsPerSecond = tokenRequestsPerSecond
            self.integrationRequestsPerSecond = integrationRequestsPerSecond
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = APISettings()
            tls = try container.decodeIfPresent(Bool.self, forKey: .tls) ?? defaults.tls
            cert = try container.decodeIfPresent(String.self, forKey: .cert)
            key = try container.decodeIfPresent(String.self, forKey: .key)
            bootstrapTokenSHA256 = try container.decodeIfPresent(String.self, forKey: .bootstrapTokenSHA256)
            tokenRequestsPerSecond = try container.decodeIfPresent(Int.self, forKey: .tokenRequestsPerSecond) ?? defaults.tokenRequestsPerSecond
            integrationRequestsPerSecond = try container.decodeIfPresent(Int.self, forKey: .integrationRequestsPerSecond)
                ?? defaults.integrationRequestsPerSecond
        }

        /// `http` or `https`, for URLs of members' APIs (every member is configured alike).
        public var scheme: String { tls ? "https" : "http" }
    }

    /// Where a member listens: its peer (Raft over mutual TLS) and HTTP API addresses.
    public struct Member: Codable, Sendable, Equatable {
        public var id: NodeID
        public var peer: HostPort
        public var http: HostPort

        public init(id: NodeID, peer: HostPort, http: HostPort) {
            self.id = id
            self.peer = peer
            self.http = http
        }
    }

    /// The PEM files of the node's TLS identity and the cluster CA.
    public struct TLSFiles: Codable, Sendable, Equatable {
        public var caCert: String
        public var cert: String
        public var key: String

        enum CodingKeys: String, CodingKey {
            case caCert = "ca_cert", cert, key
        }

        public init(caCert: String, cert: String, key: String) {
            self.caCert = caCert
            self.cert = cert
            self.key = key
        }
    }

    /// Raft's clock: every duration of the core is counted in ticks of `tickIntervalMilliseconds`.
    public struct RaftTiming: Codable, Sendable, Equatable {
        public var tickIntervalMilliseconds: Int
        public var electionTimeoutTicks: Int
        public var heartbeatIntervalTicks: Int
        /// The state machine is snapshotted and the log compacted after this many applied entries.
        public var snapshotEveryEntries: Int
        /// …or once the entries held since the last snapshot reach this many MiB (default 64), whichever comes
        /// first: the log is held in memory until compacted, and a few thousand large batches (the SLA breaches of
        /// a backlog) would otherwise hold hundreds of MB.
        public var snapshotEveryMegabytes: Int?
        public var snapshotEveryBytes: Int { (snapshotEveryMegabytes ?? 64) << 20 }
        /// The size each segment file of the log is preallocated to (default 16 MiB; etcd uses 64): a full disk
        /// still takes writes into the space already reserved, and a new segment is cut once one is full.
        public var logSegmentMegabytes: Int?
        public var logSegmentBytes: Int { (logSegmentMegabytes ?? 16) << 20 }

        enum CodingKeys: String, CodingKey {
            case snapshotEveryMegabytes = "snapshot_every_mb"
            case logSegmentMegabytes = "log_segment_mb"
            case tickIntervalMilliseconds = "tick_interval_ms"
            case electionTimeoutTicks = "election_timeout_ticks"
            case heartbeatIntervalTicks = "heartbeat_interval_ticks"
            case snapshotEveryEntries = "snapshot_every_entries"
        }

        // 10 ms ticks, election timeout 50 ticks (followers campaign 0.5–1 s after the last heartbeat),
        // heartbeat every 10 ticks (100 ms, as etcd). Fine ticks matter more than short timeouts: the randomised
        // timeout is drawn from 50 slots instead of etcd's 10, so two followers rarely time out together and
        // split the vote (etcd's worst failovers); the loop sleeps between timeouts, so fine ticks cost nothing
        // while idle. Four missed heartbeats of slack (0.4 s) absorb an fsync or GC stall; heartbeats every
        // 50 ms cost an idle leader twice the CPU (2 % of a core against 1 %) for 50 ms more slack.
        public init(tickIntervalMilliseconds: Int = 10, electionTimeoutTicks: Int = 50,
                    heartbeatIntervalTicks: Int = 10, snapshotEveryEntries: Int = 10_000) {
            self.tickIntervalMilliseconds = tickIntervalMilliseconds
            self.electionTimeoutTicks = electionTimeoutTicks
            self.heartbeatIntervalTicks = heartbeatIntervalTicks
            self.snapshotEveryEntries = snapshotEveryEntries
        }
    }

    enum CodingKeys: String, CodingKey {
        case clusterID = "cluster_id"
        case nodeID = "node_id"
        case dataDir = "data_dir"
        case peerListen = "peer_listen"
        case httpListen = "http_listen"
        case tls, raft, api, paging, members, join, log, backup, intake
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        clusterID = try container.decode(String.self, forKey: .clusterID)
        nodeID = try container.decode(NodeID.self, forKey: .nodeID)
        dataDir = try container.decode(String.self, forKey: .dataDir)
        peerListen = try container.decode(HostPort.self, forKey: .peerListen)
        httpListen = try container.decode(HostPort.self, forKey: .httpListen)
        tls = try container.decode(TLSFiles.self, forKey: .tls)
        raft = try container.decode(RaftTiming.self, forKey: .raft)
        api = try container.decodeIfPresent(APISettings.self, forKey: .api) ?? APISettings()
        paging = try container.decodeIfPresent(PagingSettings.self, forKey: .paging) ?? PagingSettings()
        members = try container.decode([Member].self, forKey: .members)
        join = try container.decodeIfPresent(Bool.self, forKey: .join) ?? false
        log = try container.decodeIfPresent(LogSettings.self, forKey: .log) ?? LogSettings()
        backup = try container.decodeIfPresent(BackupSettings.self, forKey: .backup)
        intake = try container.decodeIfPresent(IntakeSettings.self, forKey: .intake)
    }

    public init(clusterID: String, nodeID: NodeID, dataDir: String, peerListen: HostPort, httpListen: HostPort,
                tls: TLSFiles, raft: RaftTiming, api: APISettings = APISettings(), paging: PagingSettings = PagingSettings(),
                members: [Member]) {
        self.clusterID = clusterID
        self.nodeID = nodeID
        self.dataDir = dataDir
        self.peerListen = peerListen
        self.httpListen = httpListen
        self.tls = tls
        self.raft = raft
        self.api = api
        self.paging = paging
        self.members = members
    }

    /// The member entry of this node.
    public var selfMember: Member? { members.first { $0.id == nodeID } }

    /// Checks the relations between keys that decoding alone cannot see.
    public func validate() throws(ConfigError) {
        guard !clusterID.isEmpty else { throw .invalidValue(key: "cluster_id", reason: "must not be empty") }
        guard nodeID != noNode else { throw .invalidValue(key: "node_id", reason: "node ids start at 1") }
        guard !dataDir.isEmpty else { throw .invalidValue(key: "data_dir", reason: "must not be empty") }
        guard !members.isEmpty else { throw .invalidValue(key: "members", reason: "lists no member") }
        if let backup {
            guard !backup.directory.isEmpty else { throw .invalidValue(key: "backup.directory", reason: "must not be empty") }
            guard backup.everyMinutes >= 0.05, backup.everyMinutes <= 43_200 else {
                throw .invalidValue(key: "backup.every_minutes", reason: "\(backup.everyMinutes) is not in 0.05...43200")
            }
            guard (1...1_000).contains(backup.keep) else { throw .invalidValue(key: "backup.keep", reason: "\(backup.keep) is not in 1...1000") }
        }
        guard LogSettings.formats.contains(log.format) else {
            throw .invalidValue(key: "log.format", reason: "'\(log.format)' is not one of \(LogSettings.formats.joined(separator: ", "))")
        }
        var seen = Set<NodeID>()
        for (position, member) in members.enumerated() {
            guard member.id != noNode else { throw .invalidValue(key: "members[\(position)].id", reason: "node ids start at 1") }
            guard seen.insert(member.id).inserted else {
                throw .invalidValue(key: "members[\(position)].id", reason: "node \(member.id) is listed twice")
            }
        }
        guard let me = selfMember else {
            throw .invalidValue(key: "members", reason: "does not list this node (node_id \(nodeID))")
        }
        guard me.peer.port == peerListen.port else {
            throw .invalidValue(key: "peer_listen", reason: "port \(peerListen.port) differs from this node's member entry (\(me.peer))")
        }
        let timing = raft
        guard (1...10_000).contains(timing.tickIntervalMilliseconds) else {
            throw .invalidValue(key: "raft.tick_interval_ms", reason: "\(timing.tickIntervalMilliseconds) is not in 1...10000")
        }
        guard timing.heartbeatIntervalTicks >= 1 else {
            throw .invalidValue(key: "raft.heartbeat_interval_ticks", reason: "must be at least 1")
        }
        guard timing.electionTimeoutTicks > timing.heartbeatIntervalTicks else {
            throw .invalidValue(key: "raft.election_timeout_ticks",
                                reason: "\(timing.electionTimeoutTicks) must exceed heartbeat_interval_ticks (\(timing.heartbeatIntervalTicks))")
        }
        guard timing.snapshotEveryEntries >= 1 else {
            throw .invalidValue(key: "raft.snapshot_every_entries", reason: "must be at least 1")
        }
        if let megabytes = timing.snapshotEveryMegabytes, !(1...65_536).contains(megabytes) {
            throw .invalidValue(key: "raft.snapshot_every_mb", reason: "\(megabytes) is not in 1...65536")
        }
        if let megabytes = timing.logSegmentMegabytes, !(1...1_024).contains(megabytes) {
            throw .invalidValue(key: "raft.log_segment_mb", reason: "\(megabytes) is not in 1...1024")
        }
        guard (api.cert == nil) == (api.key == nil) else {
            throw .invalidValue(key: "api.cert", reason: "api.cert and api.key are given together or not at all")
        }
        if let hash = api.bootstrapTokenSHA256, hash.count != 64 || !hash.allSatisfy(\.isHexDigit) {
            throw .invalidValue(key: "api.bootstrap_token_sha256", reason: "must be 64 hexadecimal digits")
        }
        guard api.tokenRequestsPerSecond >= 1, api.integrationRequestsPerSecond >= 1 else {
            throw .invalidValue(key: "api", reason: "rate limits must be at least 1 request per second")
        }
        try paging.validate()
        try intake?.smtp?.validate()
    }

    /// Reads, decodes and validates a config file; relative paths stay relative (see `resolving(_:)`).
    public static func load(path: String) throws(ConfigError) -> NodeConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        let config = try decode(yaml: text, path: path)
        try config.validate()
        return config
    }

    /// Decodes YAML, naming the offending key on failure.
    public static func decode(yaml text: String, path: String) throws(ConfigError) -> NodeConfig {
        do {
            return try YAMLDecoder().decode(NodeConfig.self, from: text)
        } catch let error as DecodingError {
            throw ConfigError(decoding: error, path: path)
        } catch {
            throw .malformedYAML(path: path, reason: "\(error)")
        }
    }

    /// YAML text as `vigil init` writes it.
    public func yaml() throws(ConfigError) -> String {
        do {
            return try YAMLEncoder().encode(self)
        } catch {
            throw .malformedYAML(path: "(encoding)", reason: "\(error)")
        }
    }

    /// `path` made absolute against `baseDirectory` when relative.
    public static func resolve(_ path: String, against baseDirectory: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardizedFileURL.path
    }
}
