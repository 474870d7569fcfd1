"""The check shared by the status machines of objectives, promotions and campaigns."""


def transition_check(
    *,
    machine: dict[str, set[str]],
    choices,
    from_status: str,
    to_status: str,
    error: type[Exception],
    refused: str,
    unknown: str,
) -> None:
    """Refuse, in words and with `error`, a status change that a status machine does not allow.

    `refused` says it with %(from)s and %(to)s (the statuses' labels), `unknown` with %(to)s (what
    was asked for) and %(known)s (the machine's statuses), each in the reader's language."""
    if to_status in machine.get(from_status, set()):
        return
    if to_status not in choices.values:
        known = ", ".join(str(label).lower() for label in choices.labels)
        raise error(unknown % {"to": repr(to_status), "known": known})
    raise error(refused % {"from": choices(from_status).label.lower(), "to": choices(to_status).label.lower()})
