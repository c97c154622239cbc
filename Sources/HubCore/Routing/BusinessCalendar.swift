import Foundation

/// Opening hours of a team or queue in one time zone, with holidays: SLA clocks may count only this time.
///
/// Every computation walks local days in the calendar's zone, so daylight saving time is honoured:
/// a spring-forward day is an hour shorter, a fall-back day an hour longer, and a local time that
/// does not exist (02:30 when clocks jump from 02:00 to 03:00) moves forward by the jump.
/// Entries that do not parse count as closed and an unknown zone counts as UTC, so an unvalidated
/// calendar never crashes; `validated()` rejects them.
public struct BusinessCalendar: Codable, Sendable, Equatable {
    /// The calendar's identifier, as queues name it.
    public var id: String
    /// IANA time zone, e.g. "Europe/Berlin".
    public var timeZone: String
    /// Weekly opening intervals, local time.
    public var hours: [OpeningHours]
    /// Closed dates, local, "YYYY-MM-DD".
    public var holidays: [String]

    /// Makes a calendar from its parts; `validated()` checks them.
    public init(id: String, timeZone: String, hours: [OpeningHours], holidays: [String] = []) {
        self.id = id
        self.timeZone = timeZone
        self.hours = hours
        self.holidays = holidays
    }

    /// How far ahead `nextOpening(atOrAfter:)` looks, and how many closed days in a row mean the calendar never opens.
    private static let searchHorizonDays = 400
    /// The most local days `adding(businessSeconds:to:)` and `businessSeconds(from:to:)` walk: about ten years.
    private static let maximumWalkDays = 3_660

    /// Checks ids, the time zone, "HH:mm" times (open < close, 00:00–24:00 where close may be "24:00"), weekday names, holiday dates; returns self.
    public func validated() throws(ValidationError) -> BusinessCalendar {
        if id.isEmpty || id.count > 64 || id.contains(where: { $0.isWhitespace || $0.isNewline }) || id.utf8.contains(0) {
            throw ValidationError("calendars.id", "ids are 1–64 characters without spaces")
        }
        if timeZone.utf8.contains(0) || TimeZone(identifier: timeZone) == nil {
            throw ValidationError("calendars.timeZone", "must be an IANA time zone such as Europe/Berlin")
        }
        if hours.count > 100 {
            throw ValidationError("calendars.hours", "at most 100 opening intervals")
        }
        for opening in hours {
            if opening.days.isEmpty {
                throw ValidationError("calendars.hours", "each opening interval names at least one day")
            }
            for day in opening.days where CalendarText.weekdayNumbers[day] == nil {
                throw ValidationError("calendars.hours", "days are mon, tue, wed, thu, fri, sat or sun")
            }
            guard let open = CalendarText.minutes(fromClock: opening.open),
                  let close = CalendarText.minutes(fromClock: opening.close)
            else {
                throw ValidationError("calendars.hours", "times are \"HH:mm\" from 00:00 to 24:00")
            }
            if open >= close {
                throw ValidationError("calendars.hours", "each opening interval opens before it closes")
            }
        }
        if holidays.count > 1_000 {
            throw ValidationError("calendars.holidays", "at most 1000 holidays")
        }
        for holiday in holidays where CalendarText.dayKey(fromISODate: holiday) == nil {
            throw ValidationError("calendars.holidays", "holidays are dates as \"YYYY-MM-DD\"")
        }
        return self
    }

    /// Whether the calendar is open at `date`.
    public func isOpen(at date: Date) -> Bool {
        let schedule = BusinessSchedule(self)
        guard schedule.hasHours else { return false }
        let dayStart = schedule.startOfDay(containing: date)
        let dayEnd = schedule.startOfDay(after: dayStart)
        return schedule.openIntervals(from: dayStart, to: dayEnd).contains { $0.start <= date && date < $0.end }
    }

    /// The first instant at or after `date` when the calendar is open; nil when it never opens (no hours) — search at most 400 days ahead.
    public func nextOpening(atOrAfter date: Date) -> Date? {
        let schedule = BusinessSchedule(self)
        guard schedule.hasHours else { return nil }
        var dayStart = schedule.startOfDay(containing: date)
        for _ in 0...Self.searchHorizonDays {
            let dayEnd = schedule.startOfDay(after: dayStart)
            for interval in schedule.openIntervals(from: dayStart, to: dayEnd) where interval.end > date {
                return max(interval.start, date)
            }
            dayStart = dayEnd
        }
        return nil
    }

    /// The instant when `seconds` of open time have passed since `start` (time while closed does not count). If the calendar never opens, returns `Date.distantFuture`.
    ///
    /// Zero or negative `seconds` return `start` itself. `Date.distantFuture` also stands for a result
    /// more than about ten years ahead, or past 400 closed days in a row.
    public func adding(businessSeconds seconds: TimeInterval, to start: Date) -> Date {
        guard seconds > 0 else { return start }
        let schedule = BusinessSchedule(self)
        guard seconds.isFinite, schedule.hasHours else { return .distantFuture }
        var remaining = seconds
        var closedDaysInRow = 0
        var dayStart = schedule.startOfDay(containing: start)
        for _ in 0..<Self.maximumWalkDays {
            let dayEnd = schedule.startOfDay(after: dayStart)
            var countedToday = false
            for interval in schedule.openIntervals(from: dayStart, to: dayEnd) where interval.end > start {
                let countFrom = max(interval.start, start)
                let available = interval.end.timeIntervalSince(countFrom)
                if remaining <= available { return countFrom.addingTimeInterval(remaining) }
                remaining -= available
                countedToday = true
            }
            closedDaysInRow = countedToday ? 0 : closedDaysInRow + 1
            if closedDaysInRow > Self.searchHorizonDays { return .distantFuture }
            dayStart = dayEnd
        }
        return .distantFuture
    }

    /// Open time between two instants, in seconds (0 when to <= from).
    ///
    /// Counts at most about ten years of local days after `from`.
    public func businessSeconds(from: Date, to: Date) -> TimeInterval {
        guard to > from else { return 0 }
        let schedule = BusinessSchedule(self)
        guard schedule.hasHours else { return 0 }
        var total: TimeInterval = 0
        var dayStart = schedule.startOfDay(containing: from)
        for _ in 0..<Self.maximumWalkDays {
            guard dayStart < to else { break }
            let dayEnd = schedule.startOfDay(after: dayStart)
            for interval in schedule.openIntervals(from: dayStart, to: dayEnd) {
                let overlapStart = max(interval.start, from)
                let overlapEnd = min(interval.end, to)
                if overlapStart < overlapEnd { total += overlapEnd.timeIntervalSince(overlapStart) }
            }
            dayStart = dayEnd
        }
        return total
    }
}

/// One weekly opening interval: these weekdays, from `open` to `close` local time.
public struct OpeningHours: Codable, Sendable, Equatable {
    /// Lower-case English three-letter names: "mon", "tue", "wed", "thu", "fri", "sat", "sun".
    public var days: [String]
    /// "HH:mm", 24-hour local time.
    public var open: String
    /// "HH:mm"; "24:00" means midnight at the end of the day.
    public var close: String

    /// Makes an opening interval from its days and local times.
    public init(days: [String], open: String, close: String) {
        self.days = days
        self.open = open
        self.close = close
    }
}

/// An absolute stretch of open time, `start` inclusive and `end` exclusive.
private struct OpenInterval {
    var start: Date
    var end: Date
}

/// A calendar parsed for computing: opening minutes per weekday, holidays, and a Gregorian calendar in its zone.
private struct BusinessSchedule {
    let calendar: Calendar
    /// Opening minutes since local midnight, indexed by Foundation's weekday number (1 = Sunday … 7 = Saturday).
    let minutesByWeekday: [[(open: Int, close: Int)]]
    /// Closed local dates as `CalendarText.dayKey(year:month:day:)` numbers.
    let holidayKeys: Set<Int>

    init(_ businessCalendar: BusinessCalendar) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: businessCalendar.timeZone) ?? TimeZone(secondsFromGMT: 0) ?? TimeZone.current
        self.calendar = calendar

        var minutesByWeekday = Array(repeating: [(open: Int, close: Int)](), count: 8)
        for opening in businessCalendar.hours {
            guard let open = CalendarText.minutes(fromClock: opening.open),
                  let close = CalendarText.minutes(fromClock: opening.close),
                  open < close
            else { continue }
            for day in opening.days {
                if let weekday = CalendarText.weekdayNumbers[day] {
                    minutesByWeekday[weekday].append((open: open, close: close))
                }
            }
        }
        self.minutesByWeekday = minutesByWeekday
        self.holidayKeys = Set(businessCalendar.holidays.compactMap { CalendarText.dayKey(fromISODate: $0) })
    }

    /// Whether any weekday has opening hours at all.
    var hasHours: Bool {
        minutesByWeekday.contains { !$0.isEmpty }
    }

    /// The first instant of the local day that contains `date`.
    func startOfDay(containing date: Date) -> Date {
        calendar.startOfDay(for: date)
    }

    /// The first instant of the local day after the one starting at `dayStart`; always later than `dayStart`.
    func startOfDay(after dayStart: Date) -> Date {
        let fallback = dayStart.addingTimeInterval(86_400)
        guard let sameTimeNextDay = calendar.date(byAdding: .day, value: 1, to: dayStart) else { return fallback }
        let next = calendar.startOfDay(for: sameTimeNextDay)
        return next > dayStart ? next : fallback
    }

    /// The open intervals of the local day from `dayStart` to `dayEnd`, sorted and merged; none on a holiday.
    func openIntervals(from dayStart: Date, to dayEnd: Date) -> [OpenInterval] {
        let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: dayStart)
        guard let year = parts.year, let month = parts.month, let day = parts.day, let weekday = parts.weekday,
              minutesByWeekday.indices.contains(weekday)
        else { return [] }
        let openings = minutesByWeekday[weekday]
        if openings.isEmpty || holidayKeys.contains(CalendarText.dayKey(year: year, month: month, day: day)) {
            return []
        }

        var intervals: [OpenInterval] = []
        for opening in openings {
            guard let start = instant(year: year, month: month, day: day, minutes: opening.open, dayEnd: dayEnd),
                  let end = instant(year: year, month: month, day: day, minutes: opening.close, dayEnd: dayEnd)
            else { continue }
            let clippedStart = max(start, dayStart)
            let clippedEnd = min(end, dayEnd)
            if clippedStart < clippedEnd { intervals.append(OpenInterval(start: clippedStart, end: clippedEnd)) }
        }
        intervals.sort { $0.start < $1.start }

        var merged: [OpenInterval] = []
        for interval in intervals {
            if let last = merged.last, interval.start <= last.end {
                merged[merged.count - 1].end = max(last.end, interval.end)
            } else {
                merged.append(interval)
            }
        }
        return merged
    }

    /// The absolute instant of a local time on a local date; "24:00" is the start of the next day.
    ///
    /// A local time skipped by a daylight saving jump resolves forward by the jump; a repeated one resolves to its first occurrence.
    private func instant(year: Int, month: Int, day: Int, minutes: Int, dayEnd: Date) -> Date? {
        if minutes >= 24 * 60 { return dayEnd }
        let components = DateComponents(year: year, month: month, day: day, hour: minutes / 60, minute: minutes % 60)
        return calendar.date(from: components)
    }
}

/// Parsing of the calendar's text fields: weekday names, "HH:mm" clock times and "YYYY-MM-DD" dates.
/// Parsing of the clock times, weekday names and dates calendars and quiet hours are written in.
enum CalendarText {
    /// Foundation's weekday numbers for the three-letter names.
    static let weekdayNumbers: [String: Int] = [
        "sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7,
    ]

    /// Minutes since local midnight for "HH:mm" (00:00–23:59, or "24:00" as 1440); nil when malformed.
    static func minutes(fromClock text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count == 5, bytes[2] == UInt8(ascii: ":"),
              let hour = number(bytes[0..<2]), let minute = number(bytes[3..<5])
        else { return nil }
        if hour == 24 && minute == 0 { return 24 * 60 }
        guard hour < 24, minute < 60 else { return nil }
        return hour * 60 + minute
    }

    /// A number identifying a real calendar date written "YYYY-MM-DD"; nil when malformed or no such date.
    static func dayKey(fromISODate text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = number(bytes[0..<4]), let month = number(bytes[5..<7]), let day = number(bytes[8..<10])
        else { return nil }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= daysInMonth(month, year: year) else { return nil }
        return dayKey(year: year, month: month, day: day)
    }

    /// A number identifying a local date: YYYYMMDD.
    static func dayKey(year: Int, month: Int, day: Int) -> Int {
        year * 10_000 + month * 100 + day
    }

    /// The value of ASCII decimal digits; nil when empty or any byte is not a digit.
    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// Days in a Gregorian month.
    private static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let isLeapYear = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return isLeapYear ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }
}

extension BusinessCalendar {
    private enum CodingKeys: String, CodingKey {
        case id, timeZone, hours, holidays
    }

    /// Decodes a calendar; `holidays` may be left out.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            timeZone: try container.decode(String.self, forKey: .timeZone),
            hours: try container.decode([OpeningHours].self, forKey: .hours),
            holidays: try container.decodeIfPresent([String].self, forKey: .holidays) ?? []
        )
    }
}
