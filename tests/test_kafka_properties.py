"""Kafka client properties files are read as the Java clients read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.config import load_client_properties
from seamwatch.kafka.properties import PropertiesError, parse_properties

# The form Kafka's own documentation gives sasl.jaas.config in: one logical line, continued
# with a backslash at the end of each physical line.
CONTINUED = """\
# Confluent Cloud, say
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\
    username="analyst" \\
    password="s3cr=t:\\\\x";
! another comment style
group.id : seamwatch-eu
"""


def test_a_continuation_line_is_one_value() -> None:
    values = parse_properties(CONTINUED)
    assert values == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.jaas.config": (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            'username="analyst" password="s3cr=t:\\x";'
        ),
        "group.id": "seamwatch-eu",
    }


def test_escapes_blank_separators_and_repeated_keys_as_in_java() -> None:
    text = "a\\=b = 1\nkey value with blanks\nempty\nunicode=caf\\u00e9\na = 2\na = 3\n"
    assert parse_properties(text) == {
        "a=b": "1",
        "key": "value with blanks",
        "empty": "",
        "unicode": "café",
        "a": "3",
    }
    with pytest.raises(PropertiesError, match="invalid Unicode escape"):
        parse_properties("bad=\\u00zz\n")


def test_the_file_reaches_librdkafka_with_the_continued_credentials(tmp_path: Path) -> None:
    path = tmp_path / "client.properties"
    path.write_text(CONTINUED, encoding="utf-8")
    properties = load_client_properties(path, environ={"SEAMWATCH_KAFKA_GROUP_ID": "from-env"})
    assert properties.get("group.id") == "from-env"  # the environment wins over the file
    conf = librdkafka_config("127.0.0.1:9092", properties)
    assert (conf["sasl.username"], conf["sasl.password"]) == ("analyst", "s3cr=t:\\x")
    assert "s3cr" not in str(properties)  # printed masked
