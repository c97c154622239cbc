import Foundation
import HubCore
import Testing

@Suite("BusinessCalendar")
struct BusinessCalendarTests {
    /// Weekdays 09:00–17:00 in Berlin, closed on Christmas Day 2026 (a Friday).
    let office = BusinessCalendar(
        id: "berlin-office", timeZone: "Europe/Berlin",
        hours: [OpeningHours(days: ["mon", "tue", "wed", "thu", "fri"], open: "09:00", close: "17:00")],
        holidays: ["2026-12-25"]
    )

    /// Weekdays 09:00–12:00 and 13:00–17:00 in Berlin: closed for lunch.
    let splitDay = BusinessCalendar(
        id: "berlin-split", timeZone: "Europe/Berlin",
        hours: [
            OpeningHours(days: ["mon", "tue", "wed", "thu", "fri"], open: "09:00", close: "12:00"),
            OpeningHours(days: ["mon", "tue", "wed", "thu", "fri"], open: "13:00", close: "17:00"),
        ]
    )

    /// The instant an ISO 8601 string with an explicit offset names, e.g. "2026-12-28T10:00:00+01:00".
    func instant(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text), sourceLocation: sourceLocation)
    }

    @Test("open during weekday hours, closed before, after and at the weekend")
    func openDuringHours() throws {
        #expect(try office.isOpen(at: instant("2026-12-21T10:00:00+01:00")))
        #expect(try !office.isOpen(at: instant("2026-12-19T10:00:00+01:00")))
        #expect(try !office.isOpen(at: instant("2026-12-21T08:59:00+01:00")))
        #expect(try office.isOpen(at: instant("2026-12-21T09:00:00+01:00")))
        #expect(try office.isOpen(at: instant("2026-12-21T16:59:59+01:00")))
        #expect(try !office.isOpen(at: instant("2026-12-21T17:00:00+01:00")))
        // Summer time: 09:00 local is 07:00 UTC.
        #expect(try office.isOpen(at: instant("2026-07-06T07:00:00Z")))
        #expect(try !office.isOpen(at: instant("2026-07-06T06:59:59Z")))
    }

    @Test("nextOpening finds the next opening, or the instant itself when open")
    func nextOpening() throws {
        let saturday = try instant("2026-12-19T12:00:00+01:00")
        #expect(try office.nextOpening(atOrAfter: saturday) == instant("2026-12-21T09:00:00+01:00"))
        let mondayMorning = try instant("2026-12-21T10:15:00+01:00")
        #expect(office.nextOpening(atOrAfter: mondayMorning) == mondayMorning)
        let mondayClose = try instant("2026-12-21T17:00:00+01:00")
        #expect(try office.nextOpening(atOrAfter: mondayClose) == instant("2026-12-22T09:00:00+01:00"))
    }

    @Test("adding business time skips nights and weekends")
    func addingSkipsClosedTime() throws {
        let fridayAfternoon = try instant("2026-12-18T16:00:00+01:00")
        #expect(try office.adding(businessSeconds: 2 * 3600, to: fridayAfternoon) == instant("2026-12-21T10:00:00+01:00"))
        let sundayNoon = try instant("2026-12-20T12:00:00+01:00")
        #expect(try office.adding(businessSeconds: 30 * 60, to: sundayNoon) == instant("2026-12-21T09:30:00+01:00"))
        let mondayOpening = try instant("2026-12-21T09:00:00+01:00")
        #expect(try office.adding(businessSeconds: 8 * 3600, to: mondayOpening) == instant("2026-12-21T17:00:00+01:00"))
        #expect(office.adding(businessSeconds: 0, to: sundayNoon) == sundayNoon)
    }

    @Test("a holiday is closed all day and skipped")
    func holidayIsSkipped() throws {
        #expect(try !office.isOpen(at: instant("2026-12-25T10:00:00+01:00")))
        let thursdayAfternoon = try instant("2026-12-24T16:00:00+01:00")
        #expect(try office.adding(businessSeconds: 2 * 3600, to: thursdayAfternoon) == instant("2026-12-28T10:00:00+01:00"))
        let thursdayClose = try instant("2026-12-24T17:00:00+01:00")
        #expect(try office.nextOpening(atOrAfter: thursdayClose) == instant("2026-12-28T09:00:00+01:00"))
        // Thursday and Monday count; the holiday and the weekend do not.
        let seconds = try office.businessSeconds(from: instant("2026-12-24T00:00:00+01:00"), to: instant("2026-12-29T00:00:00+01:00"))
        #expect(seconds == 16 * 3600)
    }

    @Test("a day split by lunch counts both parts")
    func splitDayCountsBothParts() throws {
        let mondayMorning = try instant("2026-12-21T10:00:00+01:00")
        #expect(try splitDay.adding(businessSeconds: 4 * 3600, to: mondayMorning) == instant("2026-12-21T15:00:00+01:00"))
        let lunch = try instant("2026-12-21T12:30:00+01:00")
        #expect(!splitDay.isOpen(at: lunch))
        #expect(try splitDay.nextOpening(atOrAfter: lunch) == instant("2026-12-21T13:00:00+01:00"))
        let seconds = try splitDay.businessSeconds(from: instant("2026-12-21T00:00:00+01:00"), to: instant("2026-12-22T00:00:00+01:00"))
        #expect(seconds == 7 * 3600)
    }

    @Test("overlapping intervals merge instead of counting twice")
    func overlappingIntervalsMerge() throws {
        let overlapping = BusinessCalendar(id: "overlap", timeZone: "Europe/Berlin", hours: [
            OpeningHours(days: ["mon"], open: "09:00", close: "12:00"),
            OpeningHours(days: ["mon", "mon"], open: "11:00", close: "14:00"),
        ])
        let seconds = try overlapping.businessSeconds(from: instant("2026-12-21T00:00:00+01:00"), to: instant("2026-12-22T00:00:00+01:00"))
        #expect(seconds == 5 * 3600)
        let mondayOpening = try instant("2026-12-21T09:00:00+01:00")
        #expect(try overlapping.adding(businessSeconds: 4 * 3600, to: mondayOpening) == instant("2026-12-21T13:00:00+01:00"))
    }

    @Test("Berlin daylight saving days are 23 and 25 hours long")
    func berlinDaylightSaving() throws {
        let allDay = BusinessCalendar(id: "always", timeZone: "Europe/Berlin", hours: [
            OpeningHours(days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open: "00:00", close: "24:00"),
        ])
        // Spring forward on Sunday 2026-03-29, 02:00 → 03:00.
        let springSaturday = try instant("2026-03-28T00:00:00+01:00")
        let springMonday = try instant("2026-03-30T00:00:00+02:00")
        #expect(allDay.businessSeconds(from: springSaturday, to: springMonday) == 47 * 3600)
        #expect(allDay.adding(businessSeconds: 47 * 3600, to: springSaturday) == springMonday)
        #expect(try allDay.isOpen(at: instant("2026-03-29T03:00:00+02:00")))
        // Fall back on Sunday 2026-10-25, 03:00 → 02:00.
        let fallSaturday = try instant("2026-10-24T00:00:00+02:00")
        let fallMonday = try instant("2026-10-26T00:00:00+01:00")
        #expect(allDay.businessSeconds(from: fallSaturday, to: fallMonday) == 49 * 3600)
        #expect(allDay.adding(businessSeconds: 49 * 3600, to: fallSaturday) == fallMonday)
    }

    @Test("New York 01:00–04:00 lasts 2 hours on the spring-forward day and 4 on the fall-back day")
    func newYorkDaylightSaving() throws {
        let night = BusinessCalendar(id: "night", timeZone: "America/New_York", hours: [
            OpeningHours(days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open: "01:00", close: "04:00"),
        ])
        // 2026-03-08: 02:00–03:00 does not exist; 01:00 EST to 04:00 EDT is 2 hours.
        let springDay = try night.businessSeconds(from: instant("2026-03-08T00:00:00-05:00"), to: instant("2026-03-09T00:00:00-04:00"))
        #expect(springDay == 7200)
        #expect(try night.isOpen(at: instant("2026-03-08T03:30:00-04:00")))
        #expect(try !night.isOpen(at: instant("2026-03-08T04:00:00-04:00")))
        // 2026-11-01: 01:00–02:00 happens twice; 01:00 EDT (the first) to 04:00 EST is 4 hours.
        let fallDay = try night.businessSeconds(from: instant("2026-11-01T00:00:00-04:00"), to: instant("2026-11-02T00:00:00-05:00"))
        #expect(fallDay == 4 * 3600)
        let ordinaryDay = try night.businessSeconds(from: instant("2026-03-09T00:00:00-04:00"), to: instant("2026-03-10T00:00:00-04:00"))
        #expect(ordinaryDay == 3 * 3600)
    }

    @Test("businessSeconds undoes adding")
    func addingAndBusinessSecondsAreInverse() throws {
        let starts = try [
            "2026-03-27T16:30:00+01:00", // Friday before spring forward
            "2026-03-28T11:00:00+01:00", // Saturday, closed
            "2026-10-23T08:00:00+02:00", // Friday before fall back, before opening
            "2026-12-24T12:30:00+01:00", // lunch break on the day before the holiday
            "2026-07-06T09:00:00+02:00", // Monday at opening
            "2026-12-31T23:59:59+01:00", // across the new year
        ].map { try instant($0) }
        let durations: [TimeInterval] = [1, 1800, 3 * 3600, 8 * 3600, 40 * 3600, 100 * 3600 + 17]
        let calendar = BusinessCalendar(id: "inverse", timeZone: "Europe/Berlin", hours: splitDay.hours, holidays: ["2026-12-25"])
        for start in starts {
            for duration in durations {
                let end = calendar.adding(businessSeconds: duration, to: start)
                #expect(end > start)
                #expect(end < Date.distantFuture)
                let counted = calendar.businessSeconds(from: start, to: end)
                #expect(abs(counted - duration) < 1, "from \(start) adding \(duration) s")
            }
        }
    }

    @Test("validated() accepts a well-formed calendar")
    func acceptsGoodCalendar() throws {
        let calendar = BusinessCalendar(id: "support-berlin", timeZone: "Europe/Berlin", hours: [
            OpeningHours(days: ["mon", "tue", "wed", "thu", "fri"], open: "08:30", close: "18:00"),
            OpeningHours(days: ["sat", "sun"], open: "00:00", close: "24:00"),
        ], holidays: ["2026-12-25", "2028-02-29"])
        #expect(try calendar.validated() == calendar)
        #expect(try office.validated() == office)
        #expect(try splitDay.validated() == splitDay)
    }

    @Test("validated() rejects bad ids, zones, times, days and dates")
    func rejectsBadCalendars() {
        func calendar(
            id: String = "support", timeZone: String = "Europe/Berlin",
            days: [String] = ["mon"], open: String = "09:00", close: String = "17:00", holidays: [String] = []
        ) -> BusinessCalendar {
            BusinessCalendar(id: id, timeZone: timeZone, hours: [OpeningHours(days: days, open: open, close: close)], holidays: holidays)
        }

        let cases: [(calendar: BusinessCalendar, field: String)] = [
            (calendar(id: ""), "calendars.id"),
            (calendar(id: "two words"), "calendars.id"),
            (calendar(timeZone: "Mars/Olympus_Mons"), "calendars.timeZone"),
            (calendar(close: "25:00"), "calendars.hours"),
            (calendar(close: "17:60"), "calendars.hours"),
            (calendar(close: "24:01"), "calendars.hours"),
            (calendar(open: "9:00"), "calendars.hours"),
            (calendar(open: "17:00", close: "09:00"), "calendars.hours"),
            (calendar(open: "09:00", close: "09:00"), "calendars.hours"),
            (calendar(open: "24:00", close: "24:00"), "calendars.hours"),
            (calendar(days: ["monday"]), "calendars.hours"),
            (calendar(days: []), "calendars.hours"),
            (calendar(holidays: ["2026-13-01"]), "calendars.holidays"),
            (calendar(holidays: ["2026-02-29"]), "calendars.holidays"),
            (calendar(holidays: ["2026-1-01"]), "calendars.holidays"),
        ]
        for (candidate, expectedField) in cases {
            let field = failingField { _ = try candidate.validated() }
            #expect(field == expectedField, "\(candidate)")
        }
    }

    @Test("a calendar without hours never opens")
    func noHours() throws {
        let closed = BusinessCalendar(id: "closed", timeZone: "Europe/Berlin", hours: [])
        let monday = try instant("2026-12-21T10:00:00+01:00")
        #expect(!closed.isOpen(at: monday))
        #expect(closed.nextOpening(atOrAfter: monday) == nil)
        #expect(closed.adding(businessSeconds: 3600, to: monday) == Date.distantFuture)
        #expect(closed.businessSeconds(from: monday, to: monday.addingTimeInterval(86_400)) == 0)
    }

    @Test("an unvalidated calendar does not crash: bad entries are closed, an unknown zone is UTC")
    func unvalidatedCalendar() throws {
        let unchecked = BusinessCalendar(id: "", timeZone: "Nowhere/Atlantis", hours: [
            OpeningHours(days: ["monday", "mon"], open: "09:00", close: "17:00"),
            OpeningHours(days: ["tue"], open: "nonsense", close: "17:00"),
            OpeningHours(days: ["wed"], open: "17:00", close: "09:00"),
        ], holidays: ["not a date"])
        #expect(try unchecked.isOpen(at: instant("2026-12-21T09:00:00Z")))
        #expect(try !unchecked.isOpen(at: instant("2026-12-21T08:59:59Z")))
        #expect(try !unchecked.isOpen(at: instant("2026-12-22T10:00:00Z")))
        #expect(try !unchecked.isOpen(at: instant("2026-12-23T10:00:00Z")))
        #expect(try unchecked.nextOpening(atOrAfter: instant("2026-12-21T17:00:00Z")) == instant("2026-12-28T09:00:00Z"))
    }
}
