package io.seamwatch.udf;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.metrics.Counter;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.DeserializationFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * Whether a record read as text (a Kafka topic, a watched directory) is certainly one no rule
 * and no baseline needs, so the job can drop it before the Python step.
 *
 * <p>The JVM twin of what a file run decides on the client: a record that {@code
 * seamwatch.udfs.sqlfields.sql_readable} accepts and whose action {@code Relevance.actions} does
 * not name is staged as a brief line and dropped by the table's filter, never seen by Python.
 * This function gives the same answer for raw text, parsing it once with Jackson. It answers
 * {@code true} only when every one of these holds, and {@code false} (ask Python) otherwise:
 *
 * <ul>
 *   <li>the text is one JSON object, which {@code orjson} also parses (no trailing text, no
 *       escaped lone surrogate, no integer beyond 64 bits, no infinite number);
 *   <li>it carries none of the spec's {@code reject} keys, and none of its {@code
 *       reject_values} (containers such as {@code Records}, envelopes, Insights, digests and S3
 *       notifications: shapes the Python step expands, reads otherwise or refuses);
 *   <li>its name, time and id keys, spelled as the vendor spells them, hold strings: a name with
 *       no blank at either end, an id {@code clean_text} keeps (ASCII, not a placeholder, not
 *       {@code <...>}) and a time in the plain ISO-8601 form (a subset of what {@code
 *       parse_time} reads) that is not ahead of the clock by more than the spec's bound (the
 *       Python step would dead-letter it);
 *   <li>every object the source's table reads into is an object or absent, with no key spelled
 *       otherwise than the vendor spells a key read there ({@code _objects_ok}); the spec's
 *       {@code lists} keys hold arrays when present; in the spec's {@code echo} object no key
 *       but the allowed one equals the name, case aside;
 *   <li>the name is neither one of the spec's {@code exact} actions nor starts with one of its
 *       {@code prefixes}.
 * </ul>
 *
 * <p>The first argument, the spec, is JSON text written by {@code
 * seamwatch.jobs.jvm_drop.drop_spec} (a literal: parsed once per instance). Each record dropped
 * counts on the metric {@code seamwatch_records_not_needed_in_jvm}.
 */
public final class RawNotNeeded extends ScalarFunction {

  private static final long serialVersionUID = 1L;

  private static final Pattern ISO_TIME =
      Pattern.compile(
          "([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
              + "(?:\\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})?");
  private static final Pattern SURROGATE_ESCAPE = Pattern.compile("\\\\u[dD][89abAB]");
  private static final Set<String> PLACEHOLDERS =
      Set.of("null", "none", "redacted", "unknown", "...", "hidden_due_to_security_reasons");

  private transient ObjectMapper mapper;
  private transient Counter dropped;
  private transient String specText;
  private transient Spec spec;

  /** The parsed spec (see {@code drop_spec} for its keys). */
  static final class Spec {
    String name;
    String time;
    String id;
    long clockMs;
    Set<String> reject = new HashSet<>();
    List<String[]> rejectValues = new ArrayList<>();
    List<String> lists = new ArrayList<>();
    String echoObject;
    String echoAllowed;
    Set<String> exact = new HashSet<>();
    List<String> prefixes = new ArrayList<>();
    // Per object the table reads into (path from the record), the keys read there and the
    // same keys lower-cased.
    List<String[]> objectPaths = new ArrayList<>();
    List<Set<String>> objectKeys = new ArrayList<>();
    List<Set<String>> objectKeysLower = new ArrayList<>();
  }

  @Override
  public void open(FunctionContext context) throws Exception {
    mapper = newMapper();
    dropped = context.getMetricGroup().counter("seamwatch_records_not_needed_in_jvm");
  }

  @Override
  public boolean isDeterministic() {
    return false; // reads the clock
  }

  private static ObjectMapper newMapper() {
    return new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  public boolean eval(String specJson, String text) {
    if (text == null || specJson == null) {
      return false;
    }
    if (mapper == null) { // called without open (planner-side evaluation)
      mapper = newMapper();
    }
    if (spec == null || (specJson != specText && !specJson.equals(specText))) {
      spec = parseSpec(mapper, specJson);
      specText = specJson;
    }
    boolean notNeeded = notNeeded(mapper, spec, text, System.currentTimeMillis());
    if (notNeeded && dropped != null) {
      dropped.inc();
    }
    return notNeeded;
  }

  static Spec parseSpec(ObjectMapper mapper, String specJson) {
    JsonNode root;
    try {
      root = mapper.readTree(specJson);
    } catch (Exception e) {
      throw new IllegalArgumentException("RawNotNeeded: the spec is not JSON: " + e, e);
    }
    Spec spec = new Spec();
    spec.name = root.path("name").asText();
    spec.time = root.path("time").asText();
    spec.id = root.path("id").asText();
    spec.clockMs = root.path("clock_ms").asLong(-1);
    root.path("reject").forEach(n -> spec.reject.add(n.asText()));
    root.path("reject_values")
        .forEach(n -> spec.rejectValues.add(new String[] {n.get(0).asText(), n.get(1).asText()}));
    root.path("lists").forEach(n -> spec.lists.add(n.asText()));
    JsonNode echo = root.path("echo");
    if (echo.isArray() && echo.size() == 2) {
      spec.echoObject = echo.get(0).asText();
      spec.echoAllowed = echo.get(1).asText();
    }
    root.path("exact").forEach(n -> spec.exact.add(n.asText()));
    root.path("prefixes").forEach(n -> spec.prefixes.add(n.asText()));
    for (JsonNode object : root.path("objects")) {
      JsonNode path = object.get(0);
      String[] keys = new String[path.size()];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = path.get(i).asText();
      }
      Set<String> read = new HashSet<>();
      Set<String> lower = new HashSet<>();
      for (JsonNode key : object.get(1)) {
        read.add(key.asText());
        lower.add(key.asText().toLowerCase(Locale.ROOT));
      }
      spec.objectPaths.add(keys);
      spec.objectKeys.add(read);
      spec.objectKeysLower.add(lower);
    }
    if (spec.name.isEmpty() || spec.time.isEmpty() || spec.id.isEmpty()) {
      throw new IllegalArgumentException("RawNotNeeded: the spec names no name, time or id key");
    }
    return spec;
  }

  /** The decision itself, without the metric (see the class comment). */
  static boolean notNeeded(ObjectMapper mapper, Spec spec, String text, long nowMs) {
    if (text.indexOf("\\u") >= 0 && SURROGATE_ESCAPE.matcher(text).find()) {
      return false;
    }
    JsonNode doc;
    try {
      doc = mapper.readTree(text);
    } catch (Exception e) {
      return false; // the Python step dead-letters it, with its own reason
    }
    if (doc == null || !doc.isObject()) {
      return false;
    }
    for (String key : spec.reject) {
      if (doc.has(key)) {
        return false;
      }
    }
    for (String[] pair : spec.rejectValues) {
      JsonNode value = doc.get(pair[0]);
      if (value != null && value.isTextual() && value.asText().equals(pair[1])) {
        return false;
      }
    }
    JsonNode name = doc.get(spec.name);
    if (name == null || !name.isTextual()) {
      return false;
    }
    String action = name.asText();
    if (action.isEmpty() || !unpadded(action) || !ascii(action) || wanted(spec, action)) {
      return false;
    }
    if (!usableId(doc.get(spec.id)) || !soundTime(doc.get(spec.time), nowMs, spec.clockMs)) {
      return false;
    }
    for (String key : spec.lists) {
      JsonNode value = doc.get(key);
      if (value != null && !value.isNull() && !value.isArray()) {
        return false;
      }
    }
    if (spec.echoObject != null && !echoOk(doc.get(spec.echoObject), action, spec.echoAllowed)) {
      return false;
    }
    return objectsOk(spec, doc) && numbersOk(doc);
  }

  private static boolean wanted(Spec spec, String action) {
    if (spec.exact.contains(action)) {
      return true;
    }
    for (String prefix : spec.prefixes) {
      if (action.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** No character either Java or Python counts as a blank at either end. */
  private static boolean unpadded(String value) {
    return !blank(value.charAt(0)) && !blank(value.charAt(value.length() - 1));
  }

  private static boolean blank(char c) {
    return c <= ' '
        || (c >= 0x7f && c <= 0xa0)
        || Character.isWhitespace(c)
        || Character.isSpaceChar(c);
  }

  /** {@code clean_text} keeps it (checked conservatively: ASCII only). */
  private static boolean usableId(JsonNode node) {
    if (node == null || !node.isTextual()) {
      return false;
    }
    String id = node.asText();
    if (id.isEmpty() || !unpadded(id) || !ascii(id)) {
      return false;
    }
    if (PLACEHOLDERS.contains(id.toLowerCase(Locale.ROOT))) {
      return false;
    }
    return !(id.charAt(0) == '<' && id.charAt(id.length() - 1) == '>');
  }

  /**
   * A plain ISO-8601 time (the forms CloudTrail and Okta write) that {@code parse_time} reads,
   * not ahead of {@code nowMs} by more than {@code clockMs} less a second (the Python step reads
   * its clock later; a negative bound: no check).
   */
  static boolean soundTime(JsonNode node, long nowMs, long clockMs) {
    if (node == null || !node.isTextual()) {
      return false;
    }
    Matcher m = ISO_TIME.matcher(node.asText());
    if (!m.matches()) {
      return false;
    }
    long epochMs;
    try {
      int year = Integer.parseInt(m.group(1));
      if (year < 1) {
        return false;
      }
      LocalDateTime local =
          LocalDateTime.of(
              year,
              Integer.parseInt(m.group(2)),
              Integer.parseInt(m.group(3)),
              Integer.parseInt(m.group(4)),
              Integer.parseInt(m.group(5)),
              Integer.parseInt(m.group(6)));
      String zone = m.group(8);
      ZoneOffset offset =
          zone == null || zone.equals("Z") ? ZoneOffset.UTC : ZoneOffset.of(zone);
      epochMs = local.toInstant(offset).toEpochMilli();
    } catch (DateTimeException | NumberFormatException | ArithmeticException e) {
      return false;
    }
    return clockMs < 0 || epochMs + 1000 <= nowMs + clockMs;
  }

  private static boolean echoOk(JsonNode object, String action, String allowed) {
    if (object == null || !object.isObject()) {
      return true; // objectsOk decides whether a non-object is acceptable there
    }
    String lowered = action.toLowerCase(Locale.ROOT);
    Iterator<String> keys = object.fieldNames();
    while (keys.hasNext()) {
      String key = keys.next();
      if (!key.equals(allowed) && (!ascii(key) || key.toLowerCase(Locale.ROOT).equals(lowered))) {
        return false;
      }
    }
    return true;
  }

  private static boolean objectsOk(Spec spec, JsonNode doc) {
    for (int i = 0; i < spec.objectPaths.size(); i++) {
      JsonNode node = doc;
      for (String key : spec.objectPaths.get(i)) {
        node = node.get(key);
        if (node == null || node.isNull()) {
          break;
        }
      }
      if (node == null || node.isNull()) {
        continue;
      }
      if (!node.isObject()) {
        return false;
      }
      Set<String> read = spec.objectKeys.get(i);
      Set<String> lower = spec.objectKeysLower.get(i);
      Iterator<String> keys = node.fieldNames();
      while (keys.hasNext()) {
        String key = keys.next();
        if (read.contains(key)) {
          continue;
        }
        // A key not read here: a case mapping Java and Python may not share (not ASCII), or
        // another spelling of a key read here; either way, ask Python.
        if (!ascii(key) || lower.contains(key.toLowerCase(Locale.ROOT))) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean ascii(String value) {
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) > 0x7e) {
        return false;
      }
    }
    return true;
  }

  /** No number {@code orjson} would refuse: an integer beyond 64 bits, an infinite float. */
  private static boolean numbersOk(JsonNode node) {
    if (node.isContainerNode()) {
      for (JsonNode child : node) {
        if (!numbersOk(child)) {
          return false;
        }
      }
      return true;
    }
    if (node.isBigInteger() || node.isBigDecimal()) {
      return false;
    }
    return !(node.isDouble() && Double.isInfinite(node.doubleValue()));
  }
}
