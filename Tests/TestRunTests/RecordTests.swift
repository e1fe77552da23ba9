import Foundation
import TestKit
import Testing
@testable import TestRun

@Suite(.tags(.unit)) struct RecordStreamTests {
    @Test func parsesEveryEvent() throws {
        #expect(try TestRecord.parse(#"{"event":"start","id":"a","pos":3}"#) == .start(id: "a", position: 3))
        #expect(try TestRecord.parse(#"{"event":"done"}"#) == .done)
    }
}
