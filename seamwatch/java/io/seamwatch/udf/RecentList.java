package io.seamwatch.udf;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;

/**
 * The non-null values among a group's last {@code rows} rows, joined by commas, given only to the
 * rows that ask for them.
 *
 * <p>Run as an event-time {@code OVER} aggregate ({@code ROWS BETWEEN UNBOUNDED PRECEDING AND
 * CURRENT ROW}): each call keeps the row's value (which may be null) in a ring of the last {@code
 * rows} rows, and {@link #getValue} joins the ring's non-null values, oldest first, only when
 * the row just accumulated is {@code wanted}; otherwise, and when the ring holds no value, it
 * returns null. For a wanted row that is what {@code LISTAGG(value, ',') OVER (... ROWS BETWEEN
 * rows - 1 PRECEDING AND CURRENT ROW)} gives, without building the list for every other row of
 * the group, and without keeping those rows in state. A rule's authentication context uses it
 * ({@code seamwatch.rules.compiler}): every authentication of a person passes through, and only
 * the rule's own events read the list. The accumulator is a RAW type, Kryo-serialized in
 * checkpoints and savepoints.
 */
@FunctionHint(
    accumulator = @DataTypeHint(value = "RAW", bridgedTo = RecentList.Ring.class),
    output = @DataTypeHint("STRING"))
public final class RecentList extends AggregateFunction<String, RecentList.Ring> {

  private static final long serialVersionUID = 1L;

  /** The last rows' values, oldest at {@code next} once the ring is full. */
  public static final class Ring {
    public String[] values;
    public int next;
    public boolean wanted;

    public Ring() {}
  }

  @Override
  public Ring createAccumulator() {
    return new Ring();
  }

  /** Keeps {@code value} as the newest of the last {@code rows} rows. */
  public void accumulate(Ring ring, Integer rows, String value, Boolean wanted) {
    if (rows == null || rows < 1) {
      throw new IllegalArgumentException("RecentList: rows must be a positive literal");
    }
    if (ring.values == null || ring.values.length != rows) {
      ring.values = new String[rows];
      ring.next = 0;
    }
    ring.values[ring.next] = value;
    ring.next = (ring.next + 1) % rows;
    ring.wanted = Boolean.TRUE.equals(wanted);
  }

  @Override
  public String getValue(Ring ring) {
    if (!ring.wanted || ring.values == null) {
      return null;
    }
    StringBuilder joined = null;
    int size = ring.values.length;
    for (int i = 0; i < size; i++) {
      String value = ring.values[(ring.next + i) % size];
      if (value == null) {
        continue;
      }
      if (joined == null) {
        joined = new StringBuilder(value);
      } else {
        joined.append(',').append(value);
      }
    }
    return joined == null ? null : joined.toString();
  }
}
