import Foundation

/// Converts between instants and wall-clock time in one IANA zone, exactly across DST changes.
///
/// All civil arithmetic is done here with integers; Foundation only supplies UTC offsets and
/// transition instants, so results do not depend on Calendar's disambiguation rules.
public struct ZoneClock: Sendable {
    public let timeZone: TimeZone

    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        timeZone = zone
    }

    public func offsetMillis(at instant: Timestamp) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant) / 1000))) * Millis.second
    }

    /// Wall-clock milliseconds since the local epoch: instant + offset.
    public func wallMillis(at instant: Timestamp) -> Int64 { instant + offsetMillis(at: instant) }

    public func localDate(at instant: Timestamp) -> LocalDate {
        LocalDate(daysSinceEpoch: floorDiv(wallMillis(at: instant), Millis.day))
    }

    /// Minute of the local day (0..<1440) at an instant.
    public func minuteOfDay(at instant: Timestamp) -> Int {
        Int(floorMod(wallMillis(at: instant), Millis.day) / Millis.minute)
    }

    /// The next instant after `instant` where the UTC offset changes, if any.
    public func nextTransition(after instant: Timestamp) -> Timestamp? {
        guard let next = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: Double(instant) / 1000)) else {
            return nil
        }
        return Int64((next.timeIntervalSince1970 * 1000).rounded())
    }

    /// The earliest instant whose wall clock reads at least `date minuteOfDay`.
    /// In a spring-forward gap that is the transition itself; in a repeated hour, the first pass.
    public func firstInstant(onOrAfterWall date: LocalDate, minuteOfDay: Int) -> Timestamp {
        let wall = date.daysSinceEpoch * Millis.day + Int64(minuteOfDay) * Millis.minute
        let before = offsetMillis(at: wall - Millis.day)
        let after = offsetMillis(at: wall + Millis.day)
        var best: Timestamp?
        for offset in [before, after] {
            let candidate = wall - offset
            if offsetMillis(at: candidate) == offset { best = min(best ?? candidate, candidate) }
        }
        if let best { return best }
        // In a gap: the wall time does not exist; the first later wall time is at the transition.
        let low = min(wall - before, wall - after)
        return nextTransition(after: low - 1) ?? (wall - before)
    }

    /// Splits [from, to) into pieces of constant UTC offset: (pieceStart, pieceEnd, offsetMillis).
    public func segments(from: Timestamp, to: Timestamp) -> [(start: Timestamp, end: Timestamp, offset: Int64)] {
        var result: [(Timestamp, Timestamp, Int64)] = []
        var start = from
        while start < to {
            let offset = offsetMillis(at: start)
            var end = to
            if let next = nextTransition(after: start), next < to, next > start { end = next }
            result.append((start, end, offset))
            start = end
        }
        return result
    }
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
}

func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
