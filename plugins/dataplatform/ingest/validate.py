"""Record-level validation of a chunk of landing records, as one DuckDB query.

Every rule of the event contract is a ``(condition, reason, detail)`` triple; the first rule that
holds names the record's quarantine reason. The rules are SQL over JSON parsed once per record,
so validation runs at the engine's speed on all cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dataplatform.contract import (
    EVENT_PROPERTIES,
    KNOWN_TOP_LEVEL_FIELDS,
    MAX_FUTURE_SKEW_HOURS,
    MAX_LATENESS_DAYS,
    PLATFORMS,
    TOP_LEVEL_STRING_FIELDS,
    Prop,
    all_property_names,
)

UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# RFC 3339 date-time: an explicit offset is required, a bare local time is ambiguous.
RFC3339_PATTERN = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})"
_JSON_KINDS = {
    "string": ("VARCHAR",),
    "integer": ("UBIGINT", "BIGINT", "HUGEINT"),
    "number": ("UBIGINT", "BIGINT", "HUGEINT", "DOUBLE"),
}

# Quarantine reason codes, the stable vocabulary of lake/quarantine and of alerts.
REASONS = (
    "invalid_utf8",
    "empty_line",
    "truncated_line",
    "malformed_json",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "invalid_event_id",
    "unknown_event_type",
    "invalid_platform",
    "invalid_timestamp",
    "future_timestamp",
    "too_late",
    "missing_property",
    "wrong_property_type",
    "invalid_property_value",
    "corrupt_file",
)

TOP_FIELDS = tuple(KNOWN_TOP_LEVEL_FIELDS)
PROPERTY_NAMES = all_property_names()


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


def _field(name: str) -> str:
    return f"f[{TOP_FIELDS.index(name) + 1}]"


def _prop(name: str) -> str:
    return f"p[{PROPERTY_NAMES.index(name) + 1}]"


@dataclass(frozen=True)
class Rule:
    condition: str
    reason: str
    detail: str = ""


def _property_rules(event_type: str, name: str, prop: Prop) -> list[Rule]:
    where = f"event_type = {_q(event_type)}"
    value = _prop(name)
    kind = f"json_type({value})"
    label = f"{event_type}.{name}"
    absent = f"({value} is null or {kind} = 'NULL')"
    rules = []
    if not prop.nullable:
        rules.append(Rule(f"{where} and {absent}", "missing_property", label))
    allowed = _JSON_KINDS[prop.kind]
    rules.append(
        Rule(
            f"{where} and not {absent} and {kind} not in {_in(allowed)}",
            "wrong_property_type",
            label,
        )
    )
    present = f"{where} and not {absent}"
    if prop.choices:
        rules.append(
            Rule(
                f"{present} and ({value} ->> '$') not in {_in(prop.choices)}",
                "invalid_property_value",
                label,
            )
        )
    if prop.pattern:
        rules.append(
            Rule(
                f"{present} and not regexp_full_match({value} ->> '$', "
                f"{_q(prop.pattern.strip('^$'))})",
                "invalid_property_value",
                label,
            )
        )
    number = f"try_cast({value} ->> '$' as double)"
    if prop.minimum is not None:
        op = "<=" if prop.exclusive_minimum else "<"
        rules.append(
            Rule(f"{present} and {number} {op} {prop.minimum}", "invalid_property_value", label)
        )
    if prop.maximum is not None:
        rules.append(
            Rule(f"{present} and {number} > {prop.maximum}", "invalid_property_value", label)
        )
    return rules


def rules(batch_day: date) -> list[Rule]:
    """The contract's rules in the order they are checked; the first that holds is the reason."""
    day_start = datetime.combine(batch_day, time())
    newest = day_start + timedelta(days=1, hours=MAX_FUTURE_SKEW_HOURS)
    oldest = day_start - timedelta(days=MAX_LATENESS_DAYS)
    out = [
        Rule("text is null", "invalid_utf8"),
        Rule("text = ''", "empty_line"),
        Rule("not is_json and unterminated", "truncated_line"),
        Rule("not is_json", "malformed_json"),
        Rule("json_kind <> 'OBJECT'", "not_an_object"),
    ]
    for name, nullable in TOP_LEVEL_STRING_FIELDS.items():
        value = _field(name)
        if not nullable:
            out.append(
                Rule(f"{value} is null or json_type({value}) = 'NULL'", "missing_field", name)
            )
        out.append(Rule(f"json_type({value}) not in ('VARCHAR', 'NULL')", "wrong_type", name))
    props = _field("properties")
    out += [
        Rule(f"{props} is null or json_type({props}) = 'NULL'", "missing_field", "properties"),
        Rule(f"json_type({props}) <> 'OBJECT'", "wrong_type", "properties"),
        Rule(
            f"not regexp_full_match(event_id, {_q(UUID_PATTERN)})", "invalid_event_id", "event_id"
        ),
        Rule(
            f"event_type not in {_in(tuple(EVENT_PROPERTIES))}", "unknown_event_type", "event_type"
        ),
        Rule(f"platform not in {_in(PLATFORMS)}", "invalid_platform", "platform"),
        Rule(
            f"not regexp_full_match(occurred_at_text, {_q(RFC3339_PATTERN)}) "
            "or occurred_at is null",
            "invalid_timestamp",
            "occurred_at",
        ),
        Rule(
            f"occurred_at > timestamp '{newest.isoformat(' ')}'", "future_timestamp", "occurred_at"
        ),
        Rule(f"occurred_at < timestamp '{oldest.isoformat(' ')}'", "too_late", "occurred_at"),
    ]
    for event_type, properties in EVENT_PROPERTIES.items():
        for name, prop in properties.items():
            out += _property_rules(event_type, name, prop)
    return out


def _case(rule_list: list[Rule], attribute: str) -> str:
    def value(rule: Rule) -> str:
        text = getattr(rule, attribute)
        return _q(text) if text else "null"

    whens = "\n".join(f"        when {r.condition} then {value(r)}" for r in rule_list)
    return f"case\n{whens}\n    end"


def _string(name: str) -> str:
    return f"({_field(name)} ->> '$')"


def checked_records_sql(batch_day: date, source_file: str, unterminated_line: int) -> str:
    """SQL over the registered Arrow table ``chunk(line, line_number)``: one row per record with
    its quarantine ``reason``/``detail`` (null when valid) and the typed raw columns."""
    top_paths = "[" + ", ".join(_q(f"$.{name}") for name in TOP_FIELDS) + "]"
    prop_paths = "[" + ", ".join(_q(f"$.{name}") for name in PROPERTY_NAMES) + "]"
    rule_list = rules(batch_day)
    known = _in(TOP_FIELDS)
    return f"""
with decoded as (
    select
        line_number,
        -- strip the "\\n" separator, a CRLF's "\\r" and a UTF-8 byte-order mark
        ltrim(rtrim(try(decode(line)), chr(10) || chr(13)), chr(65279)) as text,
        line_number = {unterminated_line} as unterminated
    from chunk
),

parsed as (
    select
        *,
        case when text <> '' then json_valid(text) end as is_json
    from decoded
),

typed as (
    select
        *,
        case when is_json then json_type(text) end as json_kind
    from parsed
),

fields as (
    select
        *,
        case when json_kind = 'OBJECT' then json_extract(text, {top_paths}) end as f
    from typed
),

properties as (
    select
        *,
        case
            when json_type({_field("properties")}) = 'OBJECT'
                then json_extract({_field("properties")}, {prop_paths})
        end as p,
        {_string("event_id")} as event_id,
        {_string("event_type")} as event_type,
        {_string("occurred_at")} as occurred_at_text,
        timezone('UTC', try_cast({_string("occurred_at")} as timestamptz)) as occurred_at,
        {_string("platform")} as platform
    from fields
)

select
    line_number,
    {_case(rule_list, "reason")} as reason,
    {_case(rule_list, "detail")} as detail,
    event_id,
    event_type,
    occurred_at,
    occurred_at_text,
    {_string("user_id")} as user_id,
    {_string("anonymous_id")} as anonymous_id,
    {_string("session_id")} as session_id,
    platform,
    {_string("app_version")} as app_version,
    {_field("properties")} as properties,
    -- unknown top-level fields are kept: the whole record, only where it has any
    case
        when json_kind = 'OBJECT'
            and len(list_filter(json_keys(text), k -> k not in {known})) > 0
            then text
    end as record_with_extra_fields,
    {_q(source_file)} as source_file,
    cast(occurred_at as date) as event_date
from properties
"""
