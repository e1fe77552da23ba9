import Foundation
import TestKit
import Testing

/// The launcher's C size parser reads every case of the one size grammar's table
/// (TestKit.SizeCases, which Core's ByteSize is held to) the same way.
@Suite(.tags(.sandbox)) struct LauncherSizeTests {
    @Test func theLauncherReadsSizesLikeCore() throws {
        for c in SizeCases.all {
            let r = try TestKit.run([TestKit.launcher, "--check-size", c.text])
            if let bytes = c.bytes {
                #expect(r.status == 0 && r.out == "\(bytes)\n", "'\(c.text)': \(r.out) \(r.stderr)")
            } else {
                #expect(r.status == 2 && r.stderr.contains("is not a size"), "'\(c.text)': \(r.status) \(r.out)")
            }
        }
    }
}
