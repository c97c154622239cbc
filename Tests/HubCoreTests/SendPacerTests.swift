import Foundation
import HubCore
import Testing

@Suite("SendPacer")
struct SendPacerTests {
    @Test("sends under a key are spaced by its interval; other keys and keys without a rate never wait")
    func spacing() async {
        let pacer = SendPacer(perSecond: ["sms:main": 50, "off": 0])
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<5 { await pacer.acquire("sms:main") }
        // Five slots 20 ms apart: the fifth is at least 80 ms after the first (a lower bound: never flaky).
        #expect(clock.now - start >= .milliseconds(80))
        let free = clock.now
        for _ in 0..<100 {
            await pacer.acquire("email")
            await pacer.acquire("off")
        }
        #expect(clock.now - free < .milliseconds(80), "keys without a rate wait for nothing")
    }
}
