"""The check shared by the status machines of objectives, promotions and campaigns."""


def transition_check(
    *,
    machine: dict[str, set[str]],
    choices,
    noun: str,
    from_status: str,
    to_status: str,
    error: type[Exception],
) -> None:
    """Refuse, in words and with `error`, a status change that a status machine does not allow."""
    if to_status in machine.get(from_status, set()):
        return
    article = "An" if noun[0] in "aeiou" else "A"
    if to_status not in choices.values:
        known = ", ".join(str(label).lower() for label in choices.labels)
        raise error(f"{article} {noun} cannot become {to_status!r}: its statuses are {known}.")
    raise error(
        f"{article} {noun} that is {choices(from_status).label.lower()} "
        f"cannot become {choices(to_status).label.lower()}."
    )
