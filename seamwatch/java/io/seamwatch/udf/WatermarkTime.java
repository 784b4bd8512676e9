package io.seamwatch.udf;

import java.time.DateTimeException;
import java.time.LocalDate;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.table.utils.DateTimeUtils;

/**
 * The time a source table's watermark follows, read from a record's time text: what the SQL
 *
 * <pre>
 * COALESCE(TO_TIMESTAMP(SUBSTRING(REPLACE(text, 'T', ' ') FROM 1 FOR 19)), TIMESTAMP '1970-01-01 00:00:00')
 * </pre>
 *
 * <p>gives (the first 19 characters, to the second; the epoch when unreadable), and with a clock
 * bound the epoch as well for a time more than {@code clockSeconds} ahead of the machine's clock
 * (what {@code seamwatch.sources.timeguard.bounded_time_sql} says in SQL).
 *
 * <p>Why a function: Flink's {@code TO_TIMESTAMP} parses with a {@code java.time} formatter of
 * optional sections, which copies its parse state at each one. With the clock bound's {@code
 * CASE} naming the time twice and each branch of a source's plan computing its own column, that
 * parse was about a sixth of the JVM's sampled CPU in a run of the bench corpus. Here the usual
 * form ({@code yyyy-MM-ddTHH:mm:ss} or with a blank for the {@code T}, a valid date and time) is
 * read digit by digit; every other text goes to Flink's own {@code DateTimeUtils
 * .parseTimestampData}, the method {@code TO_TIMESTAMP} calls, so the answer is the SQL's for any
 * text.
 */
public final class WatermarkTime extends ScalarFunction {

  private static final long serialVersionUID = 1L;

  /** What the SQL gives an unreadable time: the epoch, which never advances a watermark. */
  private static final TimestampData EPOCH = TimestampData.fromEpochMillis(0L);

  /** The characters {@code TO_TIMESTAMP} reads (the SQL's {@code SUBSTRING ... FOR 19}). */
  private static final int LENGTH = 19;

  /** The time of {@code text}, the epoch when unreadable. */
  public @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData eval(
      @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData text) {
    TimestampData time = read(text);
    return time == null ? EPOCH : time;
  }

  /** As above, and the epoch for a time more than {@code clockSeconds} ahead of the clock. */
  public @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData eval(
      @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData text,
      @DataTypeHint("INT") Integer clockSeconds) {
    TimestampData time = read(text);
    if (time == null) {
      return EPOCH;
    }
    if (clockSeconds != null
        && time.getMillisecond() > System.currentTimeMillis() + clockSeconds * 1000L) {
      return EPOCH;
    }
    return time;
  }

  /** The clock's reading changes the answer: the planner must not fold or reuse it. */
  @Override
  public boolean isDeterministic() {
    return false;
  }

  /** The time of {@code text} as {@code TO_TIMESTAMP} reads its first 19 characters, or null. */
  static TimestampData read(StringData text) {
    if (text == null) {
      return null;
    }
    String value = null;
    if (text instanceof BinaryStringData) {
      value = ((BinaryStringData) text).getJavaObject();
    }
    if (value == null) {
      value = text.toString();
    }
    TimestampData fast = usualForm(value);
    return fast != null ? fast : flinkReading(value);
  }

  /** {@code yyyy-MM-dd[T ]HH:mm:ss...} with a valid date and time, else null (not decided). */
  static TimestampData usualForm(String value) {
    if (value.length() < LENGTH
        || value.charAt(4) != '-'
        || value.charAt(7) != '-'
        || (value.charAt(10) != 'T' && value.charAt(10) != ' ')
        || value.charAt(13) != ':'
        || value.charAt(16) != ':') {
      return null;
    }
    int year = digits(value, 0, 4);
    int month = digits(value, 5, 2);
    int day = digits(value, 8, 2);
    int hour = digits(value, 11, 2);
    int minute = digits(value, 14, 2);
    int second = digits(value, 17, 2);
    // Year 0 is no year of the era the formatter reads ("yyyy"): left to Flink, as is any
    // field out of its range (the formatter's own resolution decides those).
    if (year < 1 || month < 1 || day < 1 || hour < 0 || hour > 23) {
      return null;
    }
    if (minute < 0 || minute > 59 || second < 0 || second > 59) {
      return null;
    }
    long epochDay;
    try {
      epochDay = LocalDate.of(year, month, day).toEpochDay();
    } catch (DateTimeException e) {
      return null;
    }
    long seconds = epochDay * 86_400L + hour * 3_600L + minute * 60L + second;
    return TimestampData.fromEpochMillis(seconds * 1000L);
  }

  /** The value of {@code count} ASCII digits at {@code from}, or -1 if any is not one. */
  private static int digits(String value, int from, int count) {
    int result = 0;
    for (int i = from; i < from + count; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      result = result * 10 + (c - '0');
    }
    return result;
  }

  /** Flink's own reading of the first 19 characters, 'T' read as a blank (null: unreadable). */
  static TimestampData flinkReading(String value) {
    int characters = value.codePointCount(0, value.length());
    String head = value.substring(0, value.offsetByCodePoints(0, Math.min(LENGTH, characters)));
    try {
      return DateTimeUtils.parseTimestampData(head.replace('T', ' '));
    } catch (RuntimeException e) {
      return null;
    }
  }
}
