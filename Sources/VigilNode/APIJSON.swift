import Foundation

/// The API's JSON conventions: snake_case keys (`sla_policy_id` ⇄ `slaPolicyID`), ISO-free millisecond
/// timestamps, sorted keys, and strict decoding that names the offending field.
enum APIJSON {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .custom { path in SnakeKey(snake(path.last!.stringValue)) }
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in SnakeKey(camel(path.last!.stringValue)) }
        return decoder
    }

    /// `slaPolicyID` → `sla_policy_id`, `memberIDs` → `member_ids`, `generatorURL` → `generator_url`.
    static func snake(_ key: String) -> String {
        guard key.contains(where: \.isUppercase) else { return key }
        var text = key
        for (acronym, word) in [("IDs", "Ids"), ("ID", "Id"), ("URL", "Url"), ("SLA", "Sla")] {
            text = text.replacingOccurrences(of: acronym, with: word)
        }
        var out = ""
        for character in text {
            if character.isUppercase {
                if !out.isEmpty { out.append("_") }
                out.append(contentsOf: character.lowercased())
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// The inverse of `snake` for the model's names: `member_ids` → `memberIDs`, `sla_policy_id` → `slaPolicyID`.
    static func camel(_ key: String) -> String {
        guard key.contains("_") else { return key }
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        var out = String(parts[0])
        for part in parts.dropFirst() {
            switch part {
            case "id": out += "ID"
            case "ids": out += "IDs"
            case "url": out += "URL"
            case "sla": out += "SLA"
            default: out += part.prefix(1).uppercased() + part.dropFirst()
            }
        }
        return out
    }

    /// A key produced by the custom strategies.
    struct SnakeKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    /// Decodes `T` from a request body; unknown keys are refused (a typo must not be silently ignored), and
    /// every failure names the field in the API's spelling. `defaults` fill keys a client may leave out
    /// (`"layers.*.restrictions": []`; `*` walks every element of an array).
    static func decodeStrict<T: Codable>(_ type: T.Type, from data: Data, defaults: [String: any Sendable] = [:]) -> Result<T, APIError> {
        var data = data
        if !defaults.isEmpty, var object = try? JSONSerialization.jsonObject(with: data) {
            for (path, value) in defaults { object = fill(object, path: path.split(separator: ".").map(String.init)[...], with: value) }
            if let filled = try? JSONSerialization.data(withJSONObject: object) { data = filled }
        }
        let value: T
        do {
            value = try decoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let field = path(context.codingPath + [key])
            return .failure(APIError(status: 400, code: "missing_field", message: "'\(field)' is required", field: field))
        } catch let DecodingError.typeMismatch(expected, context) {
            let field = path(context.codingPath)
            return .failure(APIError(status: 400, code: "invalid_field", message: "'\(field)' must be \(describe(expected))", field: field))
        } catch let DecodingError.valueNotFound(expected, context) {
            let field = path(context.codingPath)
            return .failure(APIError(status: 400, code: "invalid_field", message: "'\(field)' must be \(describe(expected)), not null", field: field))
        } catch let DecodingError.dataCorrupted(context) {
            if context.codingPath.isEmpty {
                // Foundation reports a number that does not fit its field ("Parsed JSON number <1.5> does not
                // fit in Int.") without a path; the body is valid JSON then, and the number names the field.
                guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
                    return .failure(APIError(status: 400, code: "invalid_json", message: "the body is not valid JSON"))
                }
                let field = numberLiteral(in: context.debugDescription).flatMap { firstKey(holding: $0, in: object, path: "") }
                    ?? firstSuspectNumber(in: object, path: "")
                let message = field.map { "'\($0)' is not a number this field can hold (a whole number in range)" }
                    ?? "a value does not fit its field"
                return .failure(APIError(status: 400, code: "invalid_field", message: message, field: field))
            }
            let field = path(context.codingPath)
            return .failure(APIError(status: 400, code: "invalid_field", message: "'\(field)': \(context.debugDescription)", field: field))
        } catch {
            return .failure(APIError(status: 400, code: "invalid_json", message: "the body could not be read: \(error)"))
        }
        // Keys the type did not read are found by re-encoding and comparing key sets.
        if let original = try? JSONSerialization.jsonObject(with: data),
           let reencoded = try? JSONSerialization.jsonObject(with: encoder().encode(value)),
           let unknown = firstUnknownKey(original, known: reencoded, path: "") {
            return .failure(APIError(status: 400, code: "unknown_field", message: "'\(unknown)' is not a field of this object", field: unknown))
        }
        return .success(value)
    }

    private static func fill(_ node: Any, path: ArraySlice<String>, with value: Any) -> Any {
        guard let key = path.first else { return node }
        if key == "*", let array = node as? [Any] {
            return array.map { fill($0, path: path.dropFirst(), with: value) }
        }
        guard var object = node as? [String: Any] else { return node }
        if path.count == 1 {
            if object[key] == nil || object[key] is NSNull { object[key] = value }
        } else if let child = object[key] {
            object[key] = fill(child, path: path.dropFirst(), with: value)
        }
        return object
    }

    private static func firstUnknownKey(_ original: Any, known: Any, path: String) -> String? {
        if let object = original as? [String: Any] {
            let knownObject = known as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let value = object[key]!
                let child = path.isEmpty ? key : "\(path).\(key)"
                if value is NSNull { continue }
                guard let knownValue = knownObject[key] else { return child }
                if let found = firstUnknownKey(value, known: knownValue, path: child) { return found }
            }
        } else if let array = original as? [Any], let knownArray = known as? [Any], array.count == knownArray.count {
            for (index, pair) in zip(array, knownArray).enumerated() {
                if let found = firstUnknownKey(pair.0, known: pair.1, path: "\(path)[\(index)]") { return found }
            }
        }
        return nil
    }

    private static func numberLiteral(in message: String) -> Double? {
        guard let open = message.firstIndex(of: "<"), let close = message[open...].firstIndex(of: ">") else { return nil }
        return Double(message[message.index(after: open)..<close])
    }

    private static func firstKey(holding number: Double, in node: Any, path: String) -> String? {
        if let object = node as? [String: Any] {
            for key in object.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if !(object[key] is Bool), let value = object[key] as? NSNumber, value.doubleValue == number { return child }
                if let found = firstKey(holding: number, in: object[key]!, path: child) { return found }
            }
        } else if let array = node as? [Any] {
            for (index, element) in array.enumerated() {
                if let value = element as? NSNumber, value.doubleValue == number { return "\(path)[\(index)]" }
                if let found = firstKey(holding: number, in: element, path: "\(path)[\(index)]") { return found }
            }
        }
        return nil
    }

    /// The first number no integer field can hold (a fraction, beyond 64 bits), else the first negative one
    /// (only unsigned fields refuse those); Linux Foundation's error for them carries neither path nor value.
    private static func firstSuspectNumber(in node: Any, path: String) -> String? {
        var negative: String?
        func walk(_ node: Any, _ path: String) -> String? {
            if let object = node as? [String: Any] {
                for key in object.keys.sorted() {
                    if let found = walk(object[key]!, path.isEmpty ? key : "\(path).\(key)") { return found }
                }
            } else if let array = node as? [Any] {
                for (index, element) in array.enumerated() {
                    if let found = walk(element, "\(path)[\(index)]") { return found }
                }
            } else if !(node is Bool), !(node is String), let number = node as? NSNumber {
                let value = number.doubleValue
                if value != value.rounded() || abs(value) >= 9.2e18 { return path }
                if value < 0, negative == nil { negative = path }
            }
            return nil
        }
        return walk(node, path) ?? negative
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += (out.isEmpty ? "" : ".") + snake(key.stringValue)
            }
        }
        return out
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is UInt64.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is Double.Type: return "a number"
        default: return type == [String: Any].self ? "an object" : "of type \(type)"
        }
    }
}
