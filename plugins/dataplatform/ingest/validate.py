"""Record-level validation of a chunk of landing records, as one DuckDB query.

Every rule of the event contract is a ``(condition, reason, detail)`` triple; the first rule that
holds names the record's quarantine reason. The rules are SQL over JSON parsed once per record,
so validation runs at the engine's speed on all cores.

Speed: nearly every record is valid, and walking the whole ordered rule chain for each one is the
cost that matters. So the query first asks the cheap question, "does any rule hold?", with each
event type's property rules behind a ``case`` on the type (a record is checked against its own
type's rules only), and walks the ordered chain for the reason only where the answer is yes. Both
use the same rule conditions, so they cannot disagree. Type tests look at the JSON text itself
(its first character, or a cast) instead of parsing it again.

The records reach the rules one of two ways. The exact front decodes and parses each line of a
chunk as it is, whatever its bytes. The fast front takes the records as DuckDB's own NDJSON reader
parses them, the cheapest parse there is, and only tells valid records from suspect ones: the
caller sends the suspect ones, and any chunk the reader cannot take, to the exact front.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dataplatform.contract import (
    EVENT_ID_PATTERN,
    EVENT_PROPERTIES,
    KNOWN_TOP_LEVEL_FIELDS,
    MAX_FUTURE_SKEW_HOURS,
    MAX_LATENESS_DAYS,
    OCCURRED_AT_PATTERN,
    PLATFORMS,
    TOP_LEVEL_STRING_FIELDS,
    Prop,
    all_property_names,
)
from dataplatform.sql import sql_literal as _q

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


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


def _field(name: str) -> str:
    """The field's JSON text, a column of its own (see ``fields`` in checked_records_sql)."""
    return f'"json_{name}"'


def _unpacked_fields() -> str:
    # One json_transform of the record parses it once and keeps each known value as JSON text
    # (a string keeps its quotes, so its type stays visible); each becomes a column once.
    return ",\n        ".join(f"f.{name} as {_field(name)}" for name in TOP_FIELDS)


def _prop(name: str) -> str:
    return f'p."{name}"'


def _json_struct(names: tuple[str, ...]) -> str:
    """A json_transform structure that keeps every named value as JSON text: one parse of the
    record gives all of them, with their types still visible in the text."""
    return _q("{" + ", ".join(f'"{name}": "JSON"' for name in names) + "}")


# Tests on a JSON value's text as json_transform returns it (SQL NULL when the key is absent
# or the value is null).
def _is_absent(value: str) -> str:
    return f"({value} is null)"


def _is_string(value: str) -> str:
    return f"starts_with({value}, '\"')"


def _is_object(value: str) -> str:
    return f"starts_with({value}, '{{')"


def _is_kind(value: str, kind: str) -> str:
    if kind == "string":
        return _is_string(value)
    # Cast the JSON text as text: a cast of the JSON type itself would accept "40" (a string).
    if kind == "integer":
        return f"try_cast({value}::varchar as bigint) is not null"
    return f"try_cast({value}::varchar as double) is not null"


@dataclass(frozen=True)
class Rule:
    condition: str
    reason: str
    detail: str = ""
    event_type: str | None = None  # property rules hold only for records of their type


def _property_rules(event_type: str, name: str, prop: Prop) -> list[Rule]:
    value = _prop(name)
    label = f"{event_type}.{name}"
    absent = _is_absent(value)
    present = f"not {absent}"
    rules = []
    if not prop.nullable:
        rules.append(Rule(absent, "missing_property", label, event_type))
    rules.append(
        Rule(
            f"{present} and not ({_is_kind(value, prop.kind)})",
            "wrong_property_type",
            label,
            event_type,
        )
    )
    text = f"({value} ->> '$')"
    if prop.choices:
        rules.append(
            Rule(
                f"{present} and {text} not in {_in(prop.choices)}",
                "invalid_property_value",
                label,
                event_type,
            )
        )
    if prop.pattern:
        rules.append(
            Rule(
                f"{present} and {_unmatched(text, prop.pattern)}",
                "invalid_property_value",
                label,
                event_type,
            )
        )
    number = f"try_cast({value}::varchar as double)"
    if prop.minimum is not None:
        op = "<=" if prop.exclusive_minimum else "<"
        rules.append(
            Rule(f"{number} {op} {prop.minimum}", "invalid_property_value", label, event_type)
        )
    if prop.maximum is not None:
        rules.append(
            Rule(f"{number} > {prop.maximum}", "invalid_property_value", label, event_type)
        )
    return rules


def rules(batch_day: date, as_text: tuple[str, ...] = ()) -> list[Rule]:
    """The contract's rules in the order they are checked; the first that holds is the reason.

    ``as_text`` names fields whose column holds their value as text, not as JSON (see
    PATTERNED_FIELDS): their type rule is their pattern's."""
    day_start = datetime.combine(batch_day, time())
    newest = day_start + timedelta(days=1, hours=MAX_FUTURE_SKEW_HOURS)
    oldest = day_start - timedelta(days=MAX_LATENESS_DAYS)
    out = [
        Rule("text is null", "invalid_utf8"),
        Rule("body_length = 0", "empty_line"),
        Rule("not is_json and unterminated", "truncated_line"),
        Rule("not is_json", "malformed_json"),
        Rule("not is_object", "not_an_object"),
    ]
    for name, nullable in TOP_LEVEL_STRING_FIELDS.items():
        value = _field(name)
        if not nullable:
            out.append(Rule(_is_absent(value), "missing_field", name))
        if name not in as_text:
            out.append(
                Rule(f"not {_is_absent(value)} and not {_is_string(value)}", "wrong_type", name)
            )
    props = _field("properties")
    out += [
        Rule(_is_absent(props), "missing_field", "properties"),
        Rule(f"not {_is_object(props)}", "wrong_type", "properties"),
        Rule(_unmatched("event_id", EVENT_ID_PATTERN), "invalid_event_id", "event_id"),
        Rule(
            f"event_type not in {_in(tuple(EVENT_PROPERTIES))}", "unknown_event_type", "event_type"
        ),
        Rule(f"platform not in {_in(PLATFORMS)}", "invalid_platform", "platform"),
        Rule(
            f"{_unmatched('occurred_at_text', OCCURRED_AT_PATTERN)} or occurred_at is null",
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


def _unmatched(text: str, pattern: str) -> str:
    return f"not regexp_full_match({text}, {_q(pattern.strip('^$'))})"


def _scoped(rule: Rule) -> str:
    if rule.event_type is None:
        return rule.condition
    return f"event_type = {_q(rule.event_type)} and ({rule.condition})"


def _any_rule_holds(rule_list: list[Rule]) -> str:
    """True when some rule holds; each type's property rules are only looked at for that type."""
    general = [r.condition for r in rule_list if r.event_type is None]
    by_type: dict[str, list[str]] = {}
    for rule in rule_list:
        if rule.event_type is not None:
            by_type.setdefault(rule.event_type, []).append(rule.condition)
    per_type = "\n".join(
        f"            when {_q(event_type)} then ({' or '.join(f'({c})' for c in conditions)})"
        for event_type, conditions in by_type.items()
    )
    # A condition that is NULL counts as "maybe": the exact chain then decides.
    general_sql = " or ".join(f"coalesce({c}, true)" for c in general)
    per_type_sql = f"case event_type\n{per_type}\n            else false end"
    return f"({general_sql}) or coalesce({per_type_sql}, true)"


def _case(rule_list: list[Rule], attribute: str) -> str:
    def value(rule: Rule) -> str:
        text = getattr(rule, attribute)
        return _q(text) if text else "null"

    whens = "\n".join(f"            when {_scoped(r)} then {value(r)}" for r in rule_list)
    return f"case\n{whens}\n        end"


def _string(name: str) -> str:
    return f"({_field(name)} ->> '$')"


# A number whose re-serialised text can be longer than it was written: an exponent (1E5 comes
# back as 100000.0), and the non-standard NaN and Infinity DuckDB's reader accepts.
_MAY_HAVE_GROWN = _q(r"(?i)[0-9]e|\.0([^0-9]|$)|nan|inf")


def _without_extra_fields(as_text: tuple[str, ...] = ()) -> str:
    """True only for a record that provably has no unknown top-level field, without parsing it
    again: its length is exactly what its known fields take, written compactly.

    The known values come back from json_transform re-serialised compactly (lengths are in
    bytes). Strings never come back longer (escapes such as \\u00e9 come back shorter), so a
    record with an unknown field is longer than the sum, unless a number inside ``properties``
    came back longer than written; such records, and any with whitespace, escapes or other
    layouts, are parsed for their keys.

    json_transform returns a null value as SQL NULL, like an absent key. A nullable field's
    compact ``"name":null`` is counted where the text has it and ``properties`` has no key of
    that name: no unknown field can pass for it, as any that holds the text is longer.
    """
    props = _field("properties")
    parts = []
    for name in TOP_FIELDS:
        written_null = "0"
        if TOP_LEVEL_STRING_FIELDS.get(name):
            key = '"' + name + '"'
            written_null = (
                f"case when contains(text, {_q(key + ':null')}) "
                f"and not contains(coalesce({props}::varchar, ''), {_q(key)}) "
                f"then {len(name) + 8} else 0 end"  # "name":null,
            )
        quotes = 2 if name in as_text else 0  # a value as text, written without escapes
        parts.append(f"coalesce(strlen({_field(name)}) + {len(name) + 4 + quotes}, {written_null})")
    length = f"1 + {' + '.join(parts)}"  # the braces, less the last field's comma
    return (
        f"body_length = {length} "
        f"and not regexp_matches(coalesce({props}::varchar, ''), {_MAY_HAVE_GROWN})"
    )


# Fields whose every valid value matches a pattern no other JSON value can: the fast path reads
# them as text (a number 5 is read as '5', which then fails the pattern, so only strings pass).
PATTERNED_FIELDS = ("event_id", "event_type", "occurred_at", "platform")


def read_records_sql(path: str) -> str:
    """DuckDB's NDJSON reader over a file of records, one row per record in file order: the
    patterned fields as text, every other field as its JSON text (to tell its type). It raises
    on any record it cannot read (malformed, not an object, invalid UTF-8, a byte-order mark)
    and skips blank lines: the query that reads it checks for one row per line."""
    columns = ", ".join(
        f"{name}: '{'VARCHAR' if name in PATTERNED_FIELDS else 'JSON'}'" for name in TOP_FIELDS
    )
    return (
        f"read_json({_q(path)}, format = 'newline_delimited', records = true, "
        f"columns = {{{columns}}}, hive_partitioning = false)"
    )


def _exact_front(unterminated_line: int, assume_json: bool) -> str:
    """Each line of ``chunk`` decoded, measured and parsed as it is: any bytes at all."""
    looks_like_object = "left(ltrim(text), 1) = '{'"
    validity = (
        f"case when {looks_like_object} then true else json_valid(text) end"
        if assume_json
        else "json_valid(text)"
    )
    return f"""
decoded as (
    select
        line_number,
        try(decode(line)) as terminated,
        line_number = {unterminated_line} as unterminated
    from chunk
),

stripped as (
    -- The "\\n" separator (and a CRLF's "\\r") are JSON whitespace and stay: trimming every
    -- record would cost more than all the checks. A UTF-8 byte-order mark is not, and goes.
    select
        line_number,
        unterminated,
        case
            when starts_with(terminated, chr(65279)) then substr(terminated, 2)
            else terminated
        end as text
    from decoded
),

measured as (
    select
        *,
        {_body_length("text")} as body_length
    from stripped
),

parsed as (
    select
        *,
        case when body_length > 0 then {validity} end as is_json
    from measured
),

fields as (
    select
        *,
        coalesce(is_json, false) and left(ltrim(text), 1) = '{{' as is_object,
        -- json_transform only ever sees valid JSON: a CASE does not stop DuckDB from
        -- evaluating it on every row of a vector, and it raises on malformed input
        case when is_json and left(ltrim(text), 1) = '{{'
            then json_transform(
                case when is_json then text else '{{}}' end, {_json_struct(TOP_FIELDS)}
            )
        end as f
    from parsed
),

unpacked as (
    select
        * exclude (f),
        {_unpacked_fields()}
    from fields
)"""


def _fast_front(records: str) -> str:
    """The records as DuckDB's reader parsed them (see read_records_sql), lined up with the
    lines of ``chunk``. A patterned field's column holds its value as text: its pattern rule
    rejects any value that was not a string (see PATTERNED_FIELDS), and its written length is
    taken as the value's plus the quotes (a record written with escapes is then parsed for its
    keys, see _without_extra_fields)."""
    fields = ",\n        ".join(f"r.{name} as {_field(name)}" for name in TOP_FIELDS)
    return f"""
lined_up as (
    select
        c.line_number,
        decode(c.line) as text,
        r.aligned,
        {fields}
    from (select *, true as aligned from {records}) as r
    positional join chunk as c
),

unpacked as (
    select
        * exclude (aligned),
        -- One record per line, in order, or the query raises and the caller runs the exact
        -- one: the reader skips blank lines, and the lines after one would get the wrong
        -- records (the chunk's last lines then get none).
        case
            when aligned and line_number is not null then true
            else error('the reader did not yield one record per line')
        end as is_json,
        true as is_object,
        false as unterminated,
        {_body_length("text")} as body_length
    from lined_up
)"""


def _newline_bytes(text: str) -> str:
    return f"""case
            when ends_with({text}, chr(13) || chr(10)) then 2
            when ends_with({text}, chr(10)) then 1
            else 0
        end"""


def _body_length(text: str) -> str:
    # In bytes: strlen is the stored length, len would count the characters of every record.
    return f"strlen({text}) - {_newline_bytes(text)}"


def checked_records_sql(
    batch_day: date,
    source_file: str,
    unterminated_line: int,
    *,
    assume_json: bool = False,
    records: str | None = None,
) -> str:
    """SQL over the table ``chunk(line, line_number)``: one row per record with its quarantine
    ``reason``/``detail`` (null when valid) and the typed raw columns.

    With ``records`` (see read_records_sql, over a file holding exactly the chunk's lines) the
    query takes each record as DuckDB's own reader parsed it: nearly every chunk is clean, and
    that reader is the fastest parse there is. Such a query only tells valid records from
    suspect ones (reason ``suspect``): the caller runs the exact query on the suspect lines.

    With ``assume_json`` the query skips the separate validity parse for records that look like
    objects, and DuckDB raises on the first one that is malformed: the caller then runs the exact
    query. Nearly every chunk is clean, so nearly every record is parsed once instead of twice.
    """
    known = _in(TOP_FIELDS)
    if records is None:
        as_text: tuple[str, ...] = ()
        rule_list = rules(batch_day)
        front = _exact_front(unterminated_line, assume_json)
        strings = {name: _string(name) for name in PATTERNED_FIELDS}
        reason = f"case when suspect then {_case(rule_list, 'reason')} end"
        detail = f"case when suspect then {_case(rule_list, 'detail')} end"
    else:
        as_text = PATTERNED_FIELDS
        rule_list = rules(batch_day, as_text)
        front = _fast_front(records)
        strings = {name: _field(name) for name in PATTERNED_FIELDS}
        reason, detail = "case when suspect then 'suspect' end", "null::varchar"
    return f"""
with {front.strip()},

properties as (
    select
        *,
        case
            when {_is_object(_field("properties"))}
                then json_transform({_field("properties")}, {_json_struct(PROPERTY_NAMES)})
        end as p,
        {strings["event_id"]} as event_id,
        {strings["event_type"]} as event_type,
        {strings["occurred_at"]} as occurred_at_text,
        -- The instant in UTC: epoch arithmetic gives what timezone('UTC', ...) gives, at a
        -- third of its cost (no time zone lookup per record).
        make_timestamp(epoch_us(try_cast({strings["occurred_at"]} as timestamptz)))
            as occurred_at,
        {strings["platform"]} as platform
    from unpacked
),

flagged as (
    select
        *,
        {_any_rule_holds(rule_list)} as suspect
    from properties
)

select
    line_number,
    {reason} as reason,
    {detail} as detail,
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
    -- Unknown top-level fields are kept: the whole record, where it has any. Only records that
    -- might have some are parsed for their keys (see _without_extra_fields).
    case
        when is_object and not ({_without_extra_fields(as_text)})
            and len(list_filter(
                json_keys(case when is_object then text else '{{}}' end), k -> k not in {known}
            )) > 0
            then left(text, len(text) - {_newline_bytes("text")})
    end as record_with_extra_fields,
    {_q(source_file)} as source_file,
    cast(occurred_at as date) as event_date
from flagged
"""
