import Core
import TestKit
import Testing

@Suite(.tags(.unit)) struct ByteSizeTests {
    @Test func everyCaseOfTheTable() {
        for c in SizeCases.all {
            #expect(ByteSize.parse(c.text) == c.bytes, "'\(c.text)'")
        }
    }
}
