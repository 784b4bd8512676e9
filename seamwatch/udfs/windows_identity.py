"""The identifiers of a Windows / Active Directory account as a Security event names it.

An account appears as a SID (``S-1-5-21-...``), a domain and a sAMAccountName
(``TargetDomainName`` + ``TargetUserName``), ``DOMAIN\\sam`` in one string, or a Kerberos
principal ``sam@REALM``; a name typed at a failed logon may be a UPN. Identifiers, strongest
first:

* ``ad_sid``: the SID, upper-cased, for domain and local accounts (``S-1-5-21-...``) and Entra
  ID accounts on Entra-joined machines (``S-1-12-1-...``) only. Well-known SIDs (``S-1-5-18``
  SYSTEM, ``S-1-0-0`` NULL...) are the same on every machine and would merge them all;
* ``ad_account``: ``domain\\sam``, lower-cased. The domain is kept as written (NetBIOS
  ``CORP`` in logon events, DNS ``corp.local`` in Kerberos events); accounts of a per-machine
  authority (``NT AUTHORITY\\SYSTEM``, ``Window Manager\\DWM-1``) get the machine appended,
  ``nt authority\\system@wks01.corp.local``, so machines never share one key;
* ``ad_sam``: the sAMAccountName, lower-cased (not for per-machine authorities);
* ``email``: a name shaped like an address (a UPN typed at logon, or Kerberos ``sam@realm``),
  folded as for Okta logins; derived, since AD UPNs usually are the Entra / Okta login. A UPN
  typed at logon gives only this identifier (its local part need not be the sAMAccountName).
"""

from __future__ import annotations

from typing import NamedTuple

from seamwatch.udfs.fields import clean_text, fold_email, identifier_list
from seamwatch.udfs.records import Identifier

__all__ = ["Account", "account"]

# Authorities whose accounts exist on every machine (compared lower-cased).
_MACHINE_AUTHORITIES = frozenset(
    {
        "nt authority",
        "nt service",
        "window manager",
        "font driver host",
        "iis apppool",
        "nt virtual machine",
        "builtin",
    }
)
# Prefixes of SIDs that name one account of one domain, machine or tenant.
_ACCOUNT_SID_PREFIXES = ("S-1-5-21-", "S-1-12-1-")


class Account(NamedTuple):
    """One account of an event: how to show it, its kind, its identifiers."""

    principal: str | None  # "DOMAIN\\sam" as written, or the name alone
    kind: str | None  # "user", "machine" (sam ends in "$"), "well_known", None if absent
    identifiers: tuple[Identifier, ...]


NO_ACCOUNT = Account(None, None, ())


def _name(value: object) -> str | None:
    cleaned = clean_text(value)
    return None if cleaned is None or cleaned == "-" else cleaned


def account(
    sid: object,
    name: object,
    domain: object = None,
    host: str | None = None,
    *,
    realm: bool = False,
) -> Account:
    """The :class:`Account` of a SID / name / domain triple (each may be absent or ``-``).

    ``name`` may carry the domain itself (``CORP\\jsmith``). A name with ``@`` is a Kerberos
    principal ``sam@REALM`` when ``realm`` (Kerberos events), else a UPN typed at logon, which
    gives only ``email``: its local part need not be the sAMAccountName. ``host`` qualifies
    per-machine accounts (see the module doc).
    """
    sid_text = _name(sid)
    sam = _name(name)
    domain_text = _name(domain)
    email = None
    if sam is not None and "\\" in sam:
        domain_text, _, sam = sam.rpartition("\\")
        domain_text, sam = _name(domain_text), _name(sam)
    elif sam is not None and "@" in sam:
        email = fold_email(sam)
        local, _, realm_name = sam.rpartition("@")
        if not realm:
            principal_upn = sam
            kind = "machine" if local.endswith("$") else "user"
            return Account(principal_upn, kind, tuple(identifier_list([("email", email)])))
        if local:
            sam, domain_text = local, domain_text or _name(realm_name)
    sid_upper = sid_text.upper() if sid_text is not None else None
    account_sid = (
        sid_upper if sid_upper is not None and sid_upper.startswith(_ACCOUNT_SID_PREFIXES) else None
    )
    if sam is None and account_sid is None:
        return NO_ACCOUNT
    principal = f"{domain_text}\\{sam}" if domain_text and sam else (sam or account_sid)
    per_machine = domain_text is not None and domain_text.lower() in _MACHINE_AUTHORITIES
    if per_machine or (account_sid is None and sid_upper is not None and sam is None):
        qualified = f"{principal}@{host}".lower() if host else None
        return Account(principal, "well_known", tuple(identifier_list([("ad_account", qualified)])))
    kind = "machine" if sam is not None and sam.endswith("$") else "user"
    sam_lower = sam.lower() if sam is not None else None
    pairs = (
        ("ad_sid", account_sid),
        ("ad_account", f"{domain_text}\\{sam}".lower() if domain_text and sam else None),
        ("ad_sam", sam_lower),
        ("email", email),
    )
    return Account(principal, kind, tuple(identifier_list(pairs)))
