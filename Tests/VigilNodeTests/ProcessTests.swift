import Testing

/// Parent of every suite that runs real `vigil` processes: serialized, so failover timings are not
/// measured while another cluster competes for the two cores.
@Suite(.serialized) enum ProcessTests {}
