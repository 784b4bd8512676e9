package io.seamwatch.udf;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.types.Row;

/**
 * The behaviour baseline of one entity, as an aggregate over its events in event-time order.
 *
 * <p>The Java twin of {@code seamwatch.udfs.behaviour.observe}: run as an event-time {@code OVER}
 * aggregate partitioned by entity ({@code ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW}),
 * each call flags the event against the entity's state before the event and then lets the event
 * teach. {@link #getValue} returns the flags of the event just accumulated. The first argument
 * is the thresholds of {@code BaselineConfig} as text (a literal, see {@code parseSettings}).
 * The state is {@code observe}'s, operation for operation: bounded value lists with eviction by
 * decayed frequency, values swept on the first event of each UTC day, a reset after {@code
 * forget_after_days} of silence, the learning period from the first teaching event, and the
 * last located teaching event for travel. Values are compared as the strings the Python step
 * computed ({@code event_values}); Python stores their 48-bit digests, which only differs on a
 * collision. Java's {@code sin}, {@code cos} and {@code pow} may differ from the C library's in
 * the last bit (a speed rounded the other way, an eviction tie broken otherwise). The
 * accumulator is a RAW type, Kryo-serialized in checkpoints and savepoints: changing its fields
 * needs a state migration.
 */
@FunctionHint(
    accumulator = @DataTypeHint(value = "RAW", bridgedTo = BaselineFlags.State.class),
    output =
        @DataTypeHint(
            "ROW<new_country BOOLEAN NOT NULL, new_ip BOOLEAN NOT NULL, new_asn BOOLEAN NOT NULL,"
                + " new_device BOOLEAN NOT NULL, new_role BOOLEAN NOT NULL,"
                + " impossible_travel BOOLEAN NOT NULL, travel_speed_kmh DOUBLE>"))
public final class BaselineFlags extends AggregateFunction<Row, BaselineFlags.State> {

  private static final long serialVersionUID = 1L;
  private static final long DAY_MS = 86_400_000L;
  private static final double EARTH_RADIUS_KM = 6371.0088;
  private static final int MAX_COUNT = 1_000_000;
  private static final double MIN_TRAVEL_SECONDS = 60;

  /** Kinds, in the order of the accumulate arguments ({@link #getValue} names their flags). */
  static final int IP = 0, COUNTRY = 1, ASN = 2, DEVICE = 3, ROLE = 4, KINDS = 5;

  // The thresholds, read from the call's first argument (see parseSettings); transient: set
  // again from the argument after the function is deserialized.
  private transient String settingsText;
  private transient double learningMs;
  private transient long noveltySeconds;
  private transient long horizonMs;
  private transient double maxSpeedKmh;
  private transient double minTravelKm;
  private transient double locationFuzzKm;
  private transient double halfLifeSeconds;
  private transient int[] limits;
  private transient boolean learnFromUnknown;

  /**
   * Reads the thresholds of {@code BaselineConfig} from {@code text}: {@code name=value} pairs
   * separated by {@code ;}, every one of {@code learning_ms} ({@code learning_days * DAY_MS}),
   * {@code novelty_seconds}, {@code horizon_ms} ({@code int(forget_after_days * DAY_MS)}),
   * {@code max_speed_kmh}, {@code min_travel_km}, {@code location_fuzz_km}, {@code
   * half_life_seconds} ({@code half_life_days * 86400}), {@code max_ip}, {@code max_country},
   * {@code max_asn}, {@code max_device}, {@code max_role} and {@code learn_from_unknown} ({@code
   * true} or {@code false}). Written by {@code seamwatch.jobs.baseline.settings_text}.
   */
  private void parseSettings(String text) {
    java.util.Map<String, String> values = new java.util.HashMap<>();
    for (String pair : text.split(";")) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("baseline settings: not name=value: " + pair);
      }
      values.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    learningMs = Double.parseDouble(required(values, "learning_ms"));
    noveltySeconds = Long.parseLong(required(values, "novelty_seconds"));
    horizonMs = Long.parseLong(required(values, "horizon_ms"));
    maxSpeedKmh = Double.parseDouble(required(values, "max_speed_kmh"));
    minTravelKm = Double.parseDouble(required(values, "min_travel_km"));
    locationFuzzKm = Double.parseDouble(required(values, "location_fuzz_km"));
    halfLifeSeconds = Double.parseDouble(required(values, "half_life_seconds"));
    String[] kinds = {"max_ip", "max_country", "max_asn", "max_device", "max_role"};
    limits = new int[KINDS];
    for (int kind = 0; kind < KINDS; kind++) {
      limits[kind] = Integer.parseInt(required(values, kinds[kind]));
    }
    learnFromUnknown = Boolean.parseBoolean(required(values, "learn_from_unknown"));
    settingsText = text;
  }

  private static String required(java.util.Map<String, String> values, String name) {
    String value = values.get(name);
    if (value == null) {
      throw new IllegalArgumentException("baseline settings: no " + name);
    }
    return value;
  }

  /** One remembered value: hit count, first and last teaching time (epoch seconds). */
  public static final class Seen {
    public String value;
    public int count;
    public long firstS;
    public long lastS;
    public boolean novel;

    public Seen() {}

    Seen(String value, long nowS, boolean novel) {
      this.value = value;
      this.count = 1;
      this.firstS = nowS;
      this.lastS = nowS;
      this.novel = novel;
    }
  }

  /** Everything kept for one entity, and the flags of the event accumulated last. */
  public static final class State {
    public boolean hasFirst;
    public long firstMs;
    public boolean hasLast;
    public long lastMs;
    public boolean hasPoint;
    public double pointLat;
    public double pointLon;
    public long pointMs;
    public ArrayList<ArrayList<Seen>> values = emptyValues();
    // The last event's flags: bit i is kind i's new_* flag, bit 5 impossible travel.
    public int flags;
    public Double speed;

    public State() {}

    void reset() {
      hasFirst = hasLast = hasPoint = false;
      values = emptyValues();
    }
  }

  private static ArrayList<ArrayList<Seen>> emptyValues() {
    ArrayList<ArrayList<Seen>> values = new ArrayList<>(KINDS);
    for (int kind = 0; kind < KINDS; kind++) {
      values.add(new ArrayList<>(4));
    }
    return values;
  }

  @Override
  public State createAccumulator() {
    return new State();
  }

  /** Flags the event (kept for {@link #getValue}) and lets it teach. */
  public void accumulate(
      State state,
      String settings,
      Long eventTime,
      String outcome,
      String ip,
      String country,
      String asn,
      String device,
      String role,
      Double latitude,
      Double longitude,
      String geoSource) {
    if (settings != settingsText) { // a literal: parsed once, compared cheaply after
      if (settings.equals(settingsText)) {
        settingsText = settings;
      } else {
        parseSettings(settings);
      }
    }
    long nowMs = eventTime == null ? 0L : eventTime;
    long nowS = Math.floorDiv(nowMs, 1000L);
    expire(state, nowMs);
    boolean teaches =
        "success".equals(outcome) || ("unknown".equals(outcome) && learnFromUnknown);
    boolean learning = !state.hasFirst || (double) (nowMs - state.firstMs) < learningMs;

    int flags = 0;
    String[] eventValues = {ip, country, asn, device, role};
    for (int kind = 0; kind < KINDS; kind++) {
      String value = eventValues[kind];
      if (value == null) {
        continue;
      }
      ArrayList<Seen> seen = state.values.get(kind);
      Seen known = null;
      for (Seen candidate : seen) {
        if (candidate.value.equals(value)) {
          known = candidate;
          break;
        }
      }
      boolean isNew =
          known == null
              ? !learning
              : known.novel && Math.abs(nowS - known.firstS) < noveltySeconds;
      if (isNew) {
        flags |= 1 << kind;
      }
      if (!teaches) {
        continue;
      }
      if (known == null) {
        if (seen.size() >= limits[kind]) {
          seen.remove(leastValued(seen, nowS));
        }
        seen.add(new Seen(value, nowS, !learning));
      } else {
        known.count = Math.min(known.count + 1, MAX_COUNT);
        known.firstS = Math.min(known.firstS, nowS);
        known.lastS = Math.max(known.lastS, nowS);
      }
    }

    Double speed = null;
    if (latitude != null
        && longitude != null
        && ("okta".equals(geoSource) || "entra".equals(geoSource))) {
      double lat = pythonRound(latitude, 3);
      double lon = pythonRound(longitude, 3);
      if (state.hasPoint) {
        if (state.pointLat == lat && state.pointLon == lon) {
          speed = 0.0;
        } else {
          double distance = haversineKm(state.pointLat, state.pointLon, lat, lon);
          double seconds = Math.max(Math.abs(nowMs - state.pointMs) / 1000.0, MIN_TRAVEL_SECONDS);
          double hours = seconds / 3600;
          speed = pythonRound(distance / hours, 1);
          double effective = Math.max(0.0, distance - 2 * locationFuzzKm);
          if (distance >= minTravelKm && effective / hours > maxSpeedKmh) {
            flags |= 1 << KINDS;
          }
        }
      }
      if (teaches && (!state.hasPoint || nowMs >= state.pointMs)) {
        state.hasPoint = true;
        state.pointLat = lat;
        state.pointLon = lon;
        state.pointMs = nowMs;
      }
    }

    if (teaches && (!state.hasFirst || nowMs < state.firstMs)) {
      state.hasFirst = true;
      state.firstMs = nowMs;
    }
    state.lastMs = state.hasLast ? Math.max(state.lastMs, nowMs) : nowMs;
    state.hasLast = true;
    state.flags = flags;
    state.speed = speed;
  }

  @Override
  public Row getValue(State state) {
    int flags = state.flags;
    return Row.of(
        (flags & (1 << COUNTRY)) != 0,
        (flags & (1 << IP)) != 0,
        (flags & (1 << ASN)) != 0,
        (flags & (1 << DEVICE)) != 0,
        (flags & (1 << ROLE)) != 0,
        (flags & (1 << KINDS)) != 0,
        state.speed);
  }

  /** Python's {@code expire}: reset after silence; values swept once per UTC day of activity. */
  private void expire(State state, long nowMs) {
    if (!state.hasLast) {
      return;
    }
    if (nowMs - state.lastMs > horizonMs) {
      state.reset();
      return;
    }
    if (Math.floorDiv(nowMs, DAY_MS) == Math.floorDiv(state.lastMs, DAY_MS)) {
      return;
    }
    long cutoffS = Math.floorDiv(nowMs - horizonMs, 1000L);
    if (state.hasPoint && nowMs - state.pointMs > horizonMs) {
      state.hasPoint = false;
    }
    for (List<Seen> seen : state.values) {
      seen.removeIf(s -> s.lastS < cutoffS);
    }
  }

  /** The index of the value Python evicts: the lowest (decayed frequency, last seen), first. */
  private int leastValued(List<Seen> seen, long nowS) {
    int best = 0;
    double bestScore = score(seen.get(0), nowS);
    for (int i = 1; i < seen.size(); i++) {
      double score = score(seen.get(i), nowS);
      if (score < bestScore || (score == bestScore && seen.get(i).lastS < seen.get(best).lastS)) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }

  private double score(Seen seen, long nowS) {
    long age = Math.max(0L, nowS - seen.lastS);
    return seen.count * Math.pow(0.5, age / halfLifeSeconds);
  }

  /** Python's {@code haversine_km}, operation for operation. */
  static double haversineKm(double lat1, double lon1, double lat2, double lon2) {
    double phi1 = Math.toRadians(lat1);
    double phi2 = Math.toRadians(lat2);
    double dphi = phi2 - phi1;
    double dlam = Math.toRadians(lon2 - lon1);
    double sinPhi = Math.sin(dphi / 2);
    double sinLam = Math.sin(dlam / 2);
    double a = sinPhi * sinPhi + Math.cos(phi1) * Math.cos(phi2) * (sinLam * sinLam);
    return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1.0, Math.sqrt(a)));
  }

  /** Python's {@code round(x, digits)}: the exact binary value rounded half to even. */
  static double pythonRound(double x, int digits) {
    if (Double.isNaN(x) || Double.isInfinite(x)) {
      return x;
    }
    return new BigDecimal(x).setScale(digits, RoundingMode.HALF_EVEN).doubleValue();
  }
}
