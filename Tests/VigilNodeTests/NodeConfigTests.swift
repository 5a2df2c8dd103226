import Testing
import VigilNode

/// Config decoding names the key at fault.
struct NodeConfigTests {
    static let valid = """
        cluster_id: vigil-test
        node_id: 1
        data_dir: data
        peer_listen: 127.0.0.1:7001
        http_listen: 127.0.0.1:7101
        tls:
          ca_cert: tls/ca.pem
          cert: tls/node.pem
          key: tls/node-key.pem
        raft:
          tick_interval_ms: 10
          election_timeout_ticks: 40
          heartbeat_interval_ticks: 5
          snapshot_every_entries: 10000
        members:
        - id: 1
          peer: 127.0.0.1:7001
          http: 127.0.0.1:7101
        - id: 2
          peer: 127.0.0.1:7002
          http: 127.0.0.1:7102
        """

    @Test("a valid config decodes and round-trips through YAML")
    func roundTrip() throws {
        let config = try NodeConfig.decode(yaml: Self.valid, path: "vigil.yaml")
        try config.validate()
        #expect(config.members.count == 2)
        #expect(config.peerListen == HostPort(host: "127.0.0.1", port: 7001))
        #expect(try NodeConfig.decode(yaml: try config.yaml(), path: "again") == config)
    }

    @Test("errors name the key", arguments: [
        ("node_id: 1", "node_id: one", "node_id"),
        ("  tick_interval_ms: 10\n", "", "raft.tick_interval_ms"),
        ("peer_listen: 127.0.0.1:7001", "peer_listen: 127.0.0.1", "peer_listen"),
        ("  peer: 127.0.0.1:7002", "  peer: 127.0.0.1:99999", "members[1].peer"),
        ("election_timeout_ticks: 40", "election_timeout_ticks: 5", "raft.election_timeout_ticks"),
        ("- id: 2", "- id: 1", "members[1].id"),
        ("node_id: 1", "node_id: 9", "members"),
        ("  snapshot_every_entries: 10000", "  snapshot_every_entries: 10000\n  snapshot_every_mb: 0", "raft.snapshot_every_mb"),
        ("  snapshot_every_entries: 10000", "  snapshot_every_entries: 10000\n  log_segment_mb: 2048", "raft.log_segment_mb"),
    ])
    func namesKey(_ change: (String, String, String)) {
        let text = Self.valid.replacingOccurrences(of: change.0, with: change.1)
        do {
            let config = try NodeConfig.decode(yaml: text, path: "vigil.yaml")
            try config.validate()
            Issue.record("accepted: \(change)")
        } catch {
            #expect(error.description.contains("'\(change.2)'"), "\(error.description)")
        }
    }
}
