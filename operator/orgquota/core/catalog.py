"""The plan catalog: `plans.yaml` of the `billing-plans` ConfigMap, parsed and validated.

Every rule a quota depends on is checked here, once, so that the rest of the operator can
trust a `Catalog`: a bad catalog is rejected whole, with messages that name the field
(`plans.pro-pool.limitRange.maxCPU: 'abc' is not a quantity`), and never half-applied.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Any, Final

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)

from orgquota.core.alert_thresholds import AlertThresholds
from orgquota.core.annotations import is_label_value
from orgquota.core.hard import floor_problems, worst_case_problems
from orgquota.core.limits import Unit, above_maximum
from orgquota.core.prices import Priced, Trial, currency_problems
from orgquota.core.quantity import Quantity, QuantityError, shown

CATALOG_KEY: Final = "plans.yaml"


class CatalogError(ValueError):
    """A catalog that must not be used; `problems` name each bad field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _quantity_in(unit: Unit) -> Callable[[Any], Quantity]:
    """A validator: a quantity that is not negative and that Kubernetes holds exactly in `unit`."""

    def validate(raw: Any) -> Quantity:
        quantity = Quantity.parse(raw)
        if quantity.value < 0:
            raise ValueError(f"{shown(raw)} is negative")
        problem = above_maximum(unit, quantity.value)
        if problem:
            raise ValueError(f"{shown(raw)} is {problem}")
        return quantity

    return validate


def _count(raw: int) -> int:
    problem = above_maximum(Unit.COUNT, Fraction(raw))
    if problem:
        raise ValueError(f"{shown(raw)} is {problem}")
    return raw


def _ratio(raw: Decimal) -> Decimal:
    try:
        Quantity.parse(raw)  # refuses `1e999999999` before anything multiplies by it
    except QuantityError as exc:
        raise ValueError(f"{raw} is out of range") from exc
    return raw


def _label_value(key: str) -> str:
    if not is_label_value(key):
        raise ValueError(
            f"{shown(key)} cannot be used as an id: it becomes a label value "
            "(at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
        )
    return key


_WRITTEN = PlainSerializer(str, return_type=str)
Cpu = Annotated[Quantity, PlainValidator(_quantity_in(Unit.MILLICORES)), _WRITTEN]
Bytes = Annotated[Quantity, PlainValidator(_quantity_in(Unit.BYTES)), _WRITTEN]
Count = Annotated[StrictInt, Field(ge=0), AfterValidator(_count)]
Id = Annotated[str, AfterValidator(_label_value)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Resources(_Model):
    cpu: Cpu
    memory: Bytes
    storage: Bytes


class LimitRangeValues(_Model):
    """The plan's LimitRange; a value left out is left out of the LimitRange too."""

    defaultCPU: Cpu | None = None
    defaultMemory: Bytes | None = None
    defaultRequestCPU: Cpu | None = None
    defaultRequestMem: Bytes | None = None
    maxCPU: Cpu | None = None
    maxMemory: Bytes | None = None
    minCPU: Cpu | None = None
    minMemory: Bytes | None = None
    maxPodCPU: Cpu | None = None
    maxPodMemory: Bytes | None = None
    maxPVCStorage: Bytes | None = None
    minPVCStorage: Bytes | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LimitRangeValues:
        """The apiserver rejects a LimitRange whose min/defaults/max are out of order: say so up front."""
        chains = (
            ("minCPU", "defaultRequestCPU", "defaultCPU", "maxCPU"),
            ("minMemory", "defaultRequestMem", "defaultMemory", "maxMemory"),
            ("minPVCStorage", "maxPVCStorage"),
        )
        for chain in chains:
            present = [(name, getattr(self, name)) for name in chain if getattr(self, name) is not None]
            for (low_name, low), (high_name, high) in itertools.pairwise(present):
                if high < low:
                    raise ValueError(f"{low_name} ({low}) must not exceed {high_name} ({high})")
        return self


PRESENTATION: Final = frozenset(
    {"displayName", "description", "price", "currency", "prices", "trial", "recommended", "features"}
)
"""Fields of plans and add-ons for people and the billing API; the operator's quotas never read them."""


class Plan(_Model, Priced):
    displayName: str = ""
    description: str = ""
    trial: Trial | None = None
    """a trial of this plan, once per organization (self-service plans only)"""
    recommended: StrictBool = False
    objectStorage: Bytes | None = None
    ipv4: Count | None = None
    features: list[str] = Field(default_factory=list)
    requests: Resources
    pods: Count
    servicesLB: Count
    burstRatio: Annotated[Decimal, Field(gt=0), AfterValidator(_ratio)] = Decimal(1)
    selfService: StrictBool = True
    limitRange: LimitRangeValues

    @model_validator(mode="after")
    def _trial_sold(self) -> Plan:
        if self.trial is not None and not self.selfService:
            raise ValueError("trial: only a self-service plan can offer a trial")
        return self


class SuspendedPlan(_Model):
    cpu: Cpu
    memory: Bytes
    pods: Count
    servicesLB: Count
    storage: Bytes = Quantity(0)


class SystemOverhead(_Model):
    cpuPerProject: Count = 0
    """millicores reserved per project for system pods"""
    memPerProject: Count = 0
    """MiB reserved per project for system pods"""


class Addon(_Model, Priced):
    displayName: str = ""
    description: str = ""
    cpu: Cpu = Quantity(0)
    memory: Bytes = Quantity(0)
    storage: Bytes = Quantity(0)
    disabled: StrictBool = False
    selfService: StrictBool = True


OptionName = Annotated[str, Field(min_length=1)]


class Whmcs(_Model):
    """How a WHMCS product's configurable options map to add-ons (only the WHMCS provider reads it)."""

    configurableOptions: dict[OptionName, Id] = Field(default_factory=dict)
    """option name, as WHMCS sends it -> add-on id; the option's value is the quantity"""


class Catalog(_Model):
    plans: Annotated[dict[Id, Plan], Field(min_length=1)]
    suspendedPlan: SuspendedPlan
    systemOverhead: SystemOverhead = SystemOverhead()
    addons: dict[Id, Addon] = Field(default_factory=dict)
    eipQuota: dict[str, Count] = Field(default_factory=dict)
    whmcs: Whmcs = Whmcs()
    alerts: AlertThresholds = AlertThresholds()
    """quota pressure thresholds and the run-out horizon (docs/alerts.md); these defaults when absent"""

    def enforced(self) -> dict[str, Any]:
        """The catalog without its presentation fields: two catalogs equal here enforce the same quotas."""
        hidden = {"__all__": set(PRESENTATION)}
        return self.model_dump(exclude={"plans": hidden, "addons": hidden})

    @model_validator(mode="after")
    def _quotas_fit(self) -> Catalog:
        """The quotas this catalog can produce, checked once here (see `hard`) rather than per HRQ."""
        problems = worst_case_problems(self) + floor_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _same_currencies(self) -> Catalog:
        sold: dict[str, Priced] = {f"plans.{i}": plan for i, plan in self.plans.items() if plan.selfService}
        sold |= {f"addons.{i}": a for i, a in self.addons.items() if a.selfService and not a.disabled}
        problems = currency_problems(sold)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _eip_plans_exist(self) -> Catalog:
        unknown = sorted(set(self.eipQuota) - set(self.plans))
        if unknown:
            raise ValueError("; ".join(f"eipQuota.{plan_id}: not a plan in plans" for plan_id in unknown))
        return self

    @model_validator(mode="after")
    def _whmcs_addons_exist(self) -> Catalog:
        options = self.whmcs.configurableOptions
        unknown = sorted((name, addon) for name, addon in options.items() if addon not in self.addons)
        if unknown:
            raise ValueError(
                "; ".join(
                    f"whmcs.configurableOptions.{name}: {addon!r} is not an add-on in addons" for name, addon in unknown
                )
            )
        return self


class _DecimalLoader(yaml.SafeLoader):
    """YAML with `1.5` read as Decimal('1.5'): a burst ratio must not pass through a float."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    """A YAML float as an exact Decimal; `.inf`, `.NaN` (any case) and `1:30.5` (base 60) are refused."""
    try:
        value = Decimal(str(loader.construct_scalar(node)).replace("_", ""))
    except InvalidOperation:
        value = Decimal("NaN")  # `.inf` and `.nan` are YAML's spellings, not Decimal's; `1:30.5` is neither
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"{shown(node.value)} is not a finite decimal number", node.start_mark
        )
    return value


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """An integer; one too long for Python to read (over 4300 digits) is a YAML error, not a crash."""
    try:
        return int(loader.construct_yaml_int(node))
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{shown(node.value)} is too long a number ({len(node.value)} digits)", node.start_mark
        ) from exc


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_DecimalLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def parse_catalog(text: str) -> Catalog:
    """Parse `plans.yaml`; raise CatalogError naming every bad field."""
    try:
        data = yaml.load(text, Loader=_DecimalLoader)
    except yaml.YAMLError as exc:
        raise CatalogError([f"{CATALOG_KEY}: not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise CatalogError([f"{CATALOG_KEY}: must be a mapping with plans and suspendedPlan"])
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        raise CatalogError([_describe(error) for error in exc.errors()]) from exc


def parse_configmap_data(data: dict[str, str] | None) -> Catalog:
    """The catalog of a ConfigMap's `data`."""
    if not data or CATALOG_KEY not in data:
        raise CatalogError([f"data.{CATALOG_KEY}: missing"])
    return parse_catalog(data[CATALOG_KEY])


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    kind, message = error["type"], error["msg"].removeprefix("Value error, ")
    if not where:  # a rule across sections; its message names the fields
        return str(message)
    if kind == "missing":
        return f"{where}: required"
    if kind == "extra_forbidden":
        return f"{where}: unknown field"
    if kind in ("value_error", "assertion_error"):
        return f"{where}: {message}"
    return f"{where}: {message} (got {shown(error.get('input'))})"
