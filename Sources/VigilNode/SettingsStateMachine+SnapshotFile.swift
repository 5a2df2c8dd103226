import Foundation
import NodeState

extension SettingsStateMachine {
    /// Streams the state to a snapshot file: revision, undecodable count, setting count, then each setting in key
    /// order as key (u32 length + UTF-8), revision (u64), value (u32 length + UTF-8). One setting at a time is
    /// encoded, so the largest buffer is one value.
    func writeSnapshot(to writer: inout SnapshotFileWriter) throws(SnapshotFileError) {
        try writer.appendU64(revision)
        try writer.appendU64(undecodableEntries)
        try writer.appendU64(UInt64(settings.count))
        for key in settings.keys.sorted() {
            let setting = settings[key]!
            let keyBytes = Array(key.utf8)
            let valueBytes = Array(setting.value.utf8)
            try writer.appendU32(UInt32(keyBytes.count))
            try writer.append(keyBytes)
            try writer.appendU64(setting.revision)
            try writer.appendU32(UInt32(valueBytes.count))
            try writer.append(valueBytes)
        }
    }

    /// Reads what `writeSnapshot(to:)` wrote.
    init(reading reader: inout SnapshotFileReader) throws(SnapshotFileError) {
        self.init()
        revision = try reader.u64("settings.revision")
        undecodableEntries = try reader.u64("settings.undecodableEntries")
        let count = try reader.u64("settings.count")
        var previous: String?
        for position in 0..<count {
            let key = String(decoding: try reader.bytes(Int(try reader.u32("settings[\(position)].key.length")), "settings[\(position)].key"), as: UTF8.self)
            guard previous.map({ $0 < key }) ?? true else {
                throw SnapshotFileError(path: reader.path, "setting keys are not in strictly increasing order at settings[\(position)]")
            }
            let settingRevision = try reader.u64("settings[\(position)].revision")
            let value = String(decoding: try reader.bytes(Int(try reader.u32("settings[\(position)].value.length")), "settings[\(position)].value"), as: UTF8.self)
            settings[key] = Setting(value: value, revision: settingRevision)
            previous = key
        }
    }
}
