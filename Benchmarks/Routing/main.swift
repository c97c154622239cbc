// The routing benchmarks, on the pure engine (no store, no network):
//
//   RoutingBenchmark latency   decision latency p50/p99 with 10,000 conversations queued and 1,000 agents,
//                              and assignments per second; compared with the 50 µs p99 ceiling.
//   RoutingBenchmark erlang    a simulation with Poisson arrivals and exponential handling times; the
//                              measured service level beside the Erlang C prediction.
import Foundation
import HubCore

let arguments = CommandLine.arguments.dropFirst()
let mode = arguments.first ?? "all"
let t0 = Date(timeIntervalSinceReferenceDate: 800_000_000)

// MARK: Decision latency

/// Four queues, three of them needing a skill, chosen by words of the first message.
let latencyConfiguration = RoutingConfiguration(
    queues: [
        RoutingQueue(id: "general", name: "General"),
        RoutingQueue(id: "billing", name: "Billing", requiredSkills: [SkillRequirement(name: "billing", minLevel: 5)],
                     escalation: [EscalationStep(afterSeconds: 600, lowerSkillLevelsBy: 2)]),
        RoutingQueue(id: "tech", name: "Tech", requiredSkills: [SkillRequirement(name: "tech", minLevel: 6)]),
        RoutingQueue(id: "german", name: "German", requiredSkills: [SkillRequirement(name: "german", minLevel: 4)]),
    ],
    rules: [
        RoutingRule(id: "billing", match: RuleMatch(keywords: ["invoice"]), queueId: "billing"),
        RoutingRule(id: "tech", match: RuleMatch(keywords: ["error"]), queueId: "tech"),
        RoutingRule(id: "german", match: RuleMatch(languages: ["de"]), queueId: "german"),
    ],
    defaultQueueId: "general"
)

func nanoseconds(_ body: () -> Void) -> UInt64 {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return DispatchTime.now().uptimeNanoseconds - start
}

func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000
}

func latency() {
    let agentCount = 1000, queued = 10_000, measured = 20_000
    var rng = SystemRandomNumberGenerator()
    var engine = RoutingEngine(configuration: latencyConfiguration)
    var now = t0
    for index in 0..<agentCount {
        let agent = RoutingAgent(
            id: "agent-\(index)", teamIds: [], skills: ["billing": Int.random(in: 1...10, using: &rng), "tech": Int.random(in: 1...10, using: &rng),
                                                        "german": Int.random(in: 0...10, using: &rng)],
            capacity: [.webchat: 3, .email: 8, .sms: 5, .api: 5], presence: .available
        )
        _ = engine.upsertAgent(agent, now: now)
    }
    var next = 0
    var assigned: [String] = []
    func arrival() -> RoutingRequest {
        next += 1
        now = now.addingTimeInterval(0.01)
        return RoutingRequest(
            conversationId: "conv-\(next)", channel: [.webchat, .email, .sms].randomElement(using: &rng)!,
            tier: [.vip, .normal, .normal, .normal, .low].randomElement(using: &rng)!,
            language: Int.random(in: 0..<10, using: &rng) == 0 ? "de-DE" : "en",
            firstText: ["hello", "an invoice question", "I get an error", "where is my parcel"].randomElement(using: &rng)!,
            waitingSince: now
        )
    }
    func collect(_ actions: [RoutingAction]) {
        for case .assign(let decision) in actions { assigned.append(decision.conversationId) }
    }
    // Fill every agent, then build the queue up to 10,000 waiting.
    while engine.waitingConversationIds.count < queued { collect(engine.enqueue(arrival(), now: now)) }

    // A decision: an agent frees a slot (a resolve) and the router finds the next conversation for them.
    var decisions: [UInt64] = []
    var enqueues: [UInt64] = []
    decisions.reserveCapacity(measured)
    var made = 0
    for _ in 0..<measured {
        guard !assigned.isEmpty else { break }
        let victim = assigned.swapRemoveRandom(using: &rng)
        var actions: [RoutingAction] = []
        decisions.append(nanoseconds { actions = engine.finished(conversationId: victim, now: now) })
        for case .assign(let decision) in actions {
            made += 1
            assigned.append(decision.conversationId)
        }
        // Keep the queue at 10,000: one arrival per resolve (placed in line; nobody has room).
        let request = arrival()
        enqueues.append(nanoseconds { collect(engine.enqueue(request, now: now)) })
    }
    let total = decisions.reduce(0, +)
    decisions.sort()
    enqueues.sort()
    let p99 = percentile(decisions, 0.99)
    print("routing decision (resolve → next assignment), \(agentCount) agents, \(engine.waitingConversationIds.count) queued:")
    print(String(format: "  decisions %d, assignments %d: p50 %.1f µs   p99 %.1f µs   max %.1f µs   (ceiling p99 50 µs: %@)",
                 decisions.count, made, percentile(decisions, 0.5), p99, Double(decisions.last ?? 0) / 1000, p99 <= 50 ? "met" : "NOT met"))
    print(String(format: "  assignments per second (decision time only): %.0f", Double(made) / (Double(total) / 1e9)))
    print(String(format: "  arrival placed in a 10,000 line: p50 %.1f µs   p99 %.1f µs", percentile(enqueues, 0.5), percentile(enqueues, 0.99)))
}

extension Array {
    mutating func swapRemoveRandom(using rng: inout some RandomNumberGenerator) -> Element {
        let index = Int.random(in: indices, using: &rng)
        swapAt(index, count - 1)
        return removeLast()
    }
}

// MARK: Erlang C

/// The probability that an arrival waits, with `servers` agents and `load` Erlangs offered.
func erlangC(servers: Int, load: Double) -> Double {
    // Erlang B by its stable recurrence, then C from B.
    var b = 1.0
    for k in 1...servers { b = load * b / (Double(k) + load * b) }
    let rho = load / Double(servers)
    return b / (1 - rho + rho * b)
}

struct Scenario {
    var agents: Int
    var arrivalsPerHour: Double
    var handleSeconds: Double
    var targetSeconds: Double
}

func simulate(_ scenario: Scenario, arrivals: Int) -> (serviceLevel: Double, asa: Double) {
    var rng = SystemRandomNumberGenerator()
    func exponential(mean: Double) -> Double { -mean * log(1 - Double.random(in: 0..<1, using: &rng)) }
    let queue = RoutingQueue(id: "q", name: "Q", sla: [SLATarget(seconds: scenario.targetSeconds, goalPercent: 80)])
    var engine = RoutingEngine(configuration: RoutingConfiguration(queues: [queue], defaultQueueId: "q", stickyWaitSeconds: 0))
    for index in 0..<scenario.agents {
        _ = engine.upsertAgent(RoutingAgent(id: "agent-\(index)", capacity: [.webchat: 1], presence: .available), now: t0)
    }
    // Departures by time: (time, conversation).
    var departures: [(Double, String)] = []
    var waits: [Double] = []
    var clock = 0.0
    var nextArrival = exponential(mean: 3600 / scenario.arrivalsPerHour)
    var arrived = 0
    let warmUp = arrivals / 10

    func start(_ actions: [RoutingAction], at time: Double) {
        for case .assign(let decision) in actions {
            let wait = time - decision.waitingSince.timeIntervalSince(t0)
            if Int(decision.conversationId)! >= warmUp { waits.append(wait) }
            let end = time + exponential(mean: scenario.handleSeconds)
            let at = departures.firstIndex { $0.0 > end } ?? departures.count
            departures.insert((end, decision.conversationId), at: at)
        }
    }
    while arrived < arrivals || !departures.isEmpty {
        if arrived < arrivals && (departures.first.map { nextArrival < $0.0 } ?? true) {
            clock = nextArrival
            let request = RoutingRequest(conversationId: String(arrived), channel: .webchat, waitingSince: t0.addingTimeInterval(clock))
            arrived += 1
            start(engine.enqueue(request, now: t0.addingTimeInterval(clock)), at: clock)
            nextArrival = clock + exponential(mean: 3600 / scenario.arrivalsPerHour)
        } else {
            let (time, id) = departures.removeFirst()
            clock = time
            start(engine.finished(conversationId: id, now: t0.addingTimeInterval(clock)), at: clock)
        }
    }
    let within = waits.filter { $0 <= scenario.targetSeconds + 1e-9 }.count
    return (Double(within) / Double(waits.count), waits.reduce(0, +) / Double(waits.count))
}

func erlang() {
    let scenarios = [
        Scenario(agents: 10, arrivalsPerHour: 160, handleSeconds: 180, targetSeconds: 20),
        Scenario(agents: 25, arrivalsPerHour: 318.75, handleSeconds: 240, targetSeconds: 20),
        Scenario(agents: 50, arrivalsPerHour: 900, handleSeconds: 180, targetSeconds: 30),
    ]
    let arrivals = 1_000_000, tolerance = 1.5
    print("service level: simulation (Poisson arrivals, exponential handling, \(arrivals) arrivals each) against Erlang C; tolerance ±\(tolerance) points")
    var allWithin = true
    for scenario in scenarios {
        let load = scenario.arrivalsPerHour * scenario.handleSeconds / 3600
        let mu = 1 / scenario.handleSeconds, lambda = scenario.arrivalsPerHour / 3600
        let waitProbability = erlangC(servers: scenario.agents, load: load)
        let rate = Double(scenario.agents) * mu - lambda
        let predicted = 100 * (1 - waitProbability * exp(-rate * scenario.targetSeconds))
        let predictedASA = waitProbability / rate
        let measured = simulate(scenario, arrivals: arrivals)
        let difference = 100 * measured.serviceLevel - predicted
        allWithin = allWithin && abs(difference) <= tolerance
        print(String(format: "  %d agents, %.1f Erlangs (occupancy %.0f%%), target %.0f s: Erlang C %.1f%% (ASA %.1f s), simulated %.1f%% (ASA %.1f s), difference %+.1f %@",
                     scenario.agents, load, 100 * load / Double(scenario.agents), scenario.targetSeconds, predicted, predictedASA,
                     100 * measured.serviceLevel, measured.asa, difference, abs(difference) <= tolerance ? "within" : "OUTSIDE"))
    }
    print(allWithin ? "all scenarios within tolerance" : "some scenario outside tolerance")
}

switch mode {
case "latency": latency()
case "erlang": erlang()
default:
    latency()
    erlang()
}
