import Core
import Foundation

/// The saved model: a versioned JSON document (canonical JSON, sorted keys).
/// Format described in docs/ranking.md.
public struct ModelFile: Codable, Sendable, Equatable {
    public static let formatName = "repro-rank-model"
    public static let formatVersion = 4

    public var format: String
    public var version: Int
    /// Feature column names, in the order of `model.weights`.
    public var features: [String]
    public var seed: UInt64
    public var trainedRuns: Int
    public var trainedExecutions: Int
    public var model: LogisticModel

    public init(model: LogisticModel, seed: UInt64, history: History) {
        self.init(model: model, seed: seed, runs: history.runs.count, executions: history.executionCount)
    }

    /// The model after `runs` runs holding `executions` executions in all.
    public init(model: LogisticModel, seed: UInt64, runs: Int, executions: Int) {
        format = Self.formatName
        version = Self.formatVersion
        features = FeatureSet.names
        self.seed = seed
        trainedRuns = runs
        trainedExecutions = executions
        self.model = model
    }

    public func write(to path: String) throws {
        let data = try CanonicalJSON.encode(self, pretty: true) + Data("\n".utf8)
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw ReproError(.invalidInput, "\(path): cannot write the model file; check the directory exists and is writable")
        }
    }

    /// - Throws: `ReproError(.invalidInput)` if the file is unreadable, not a model
    ///   file, of another version or for other features.
    public static func load(path: String) throws -> ModelFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReproError(.invalidInput, "\(path): cannot read the model file; check the path or run `repro rank train`")
        }
        let file: ModelFile
        do {
            file = try JSONDecoder().decode(ModelFile.self, from: data)
        } catch {
            throw ReproError(.invalidInput, "\(path): not a \(formatName) file (\(error)); retrain with `repro rank train`")
        }
        guard file.format == formatName, file.version == formatVersion else {
            throw ReproError(.invalidInput, "\(path): model format \(file.format) v\(file.version), expected \(formatName) v\(formatVersion); retrain with `repro rank train`")
        }
        guard file.features == FeatureSet.names, file.model.featureCount == FeatureSet.names.count,
              file.model.featureMean.count == file.model.featureCount,
              file.model.averageWeights.count == file.model.featureCount else {
            throw ReproError(.invalidInput, "\(path): the model's feature columns differ from this repro's; retrain with `repro rank train`")
        }
        return file
    }
}

/// Trains a model on a whole history, run by run, as the replay does.
public enum Trainer {
    public static func train(_ history: History, seed: UInt64) -> ModelFile {
        ModelFile(model: Replay.walk(history, seed: seed), seed: seed, history: history)
    }

    /// Continues `file` on the runs of `history` after the `trainedRuns` it has seen;
    /// `history` must start with those runs (the same file, grown).
    /// - Throws: `ReproError(.invalidInput)` if the history is shorter than the model's.
    public static func resume(_ file: ModelFile, on history: History, path: String) throws -> ModelFile {
        guard file.model.runs <= history.runs.count else {
            throw ReproError(.invalidInput, "\(path): the model was trained on \(file.model.runs) runs but the history has \(history.runs.count); pass the history it was trained on, grown, or train from scratch")
        }
        let seen = history.runs.prefix(file.model.runs).reduce(0) { $0 + $1.executions.count }
        guard seen == file.trainedExecutions else {
            throw ReproError(.invalidInput, "\(path): the model was trained on \(file.trainedExecutions) executions in its \(file.model.runs) runs but the history has \(seen) in them (a run changed or was incomplete); train from scratch")
        }
        return ModelFile(model: Replay.continueTraining(file.model, on: history), seed: file.seed, history: history)
    }
}
