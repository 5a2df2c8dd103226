/// Shared field checks; each returns the error to report or nil.
enum Validate {
    static func identifier(_ value: String, field: String) -> DutyError? {
        if value.isEmpty { return .invalid(field, "must not be empty") }
        if value.utf8.count > DutyLimits.maxIdentifierLength {
            return .limit(field, "at most \(DutyLimits.maxIdentifierLength) bytes")
        }
        for scalar in value.unicodeScalars {
            let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                || scalar == "-" || scalar == "_" || scalar == "." || scalar == ":" || scalar == "@"
            if !ok { return .invalid(field, "may only contain letters, digits and - _ . : @") }
        }
        return nil
    }

    static func title(_ value: String, field: String) -> DutyError? {
        if value.trimmingWhitespace().isEmpty { return .invalid(field, "must not be empty") }
        if value.count > DutyLimits.maxTitleLength { return .limit(field, "at most \(DutyLimits.maxTitleLength) characters") }
        return nil
    }

    /// Instants a command may carry: 1970 … 9999-12-31. Anything wider would overflow the model's
    /// millisecond arithmetic while the entry is applied — on every replica, again after each restart.
    static let timestampRange: ClosedRange<Timestamp> = 0...253_402_300_799_999

    static func timestamp(_ value: Timestamp, field: String) -> DutyError? {
        timestampRange.contains(value) ? nil : .invalid(field, "must be milliseconds between 1970 and 9999 (got \(value))")
    }

    static func text(_ value: String, field: String) -> DutyError? {
        if value.count > DutyLimits.maxTextLength { return .limit(field, "at most \(DutyLimits.maxTextLength) characters") }
        return nil
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return slice
    }
}
