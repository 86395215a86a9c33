"""Salesforce: the plan seen through the CRM at a given clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from .plan import Plan

CONTRACT_CREATED_BEFORE_CLOSE = timedelta(minutes=30)
CONTRACT_ACTIVATED_BEFORE_CLOSE = timedelta(minutes=10)


def _audit(frame: pd.DataFrame, created: pd.Series, modified: pd.Series) -> pd.DataFrame:
    frame["CreatedDate"] = created.to_numpy()
    frame["LastModifiedDate"] = modified.to_numpy()
    frame["SystemModstamp"] = modified.to_numpy()
    frame["IsDeleted"] = False
    return frame


def accounts(plan: Plan) -> pd.DataFrame:
    c = plan.customers
    parent_ids = c["sf_id"].to_numpy()
    frame = pd.DataFrame(
        {
            "Id": c["sf_id"],
            "Name": c["name"],
            "ParentId": [parent_ids[p] if p >= 0 else None for p in c["parent"]],
            "BillingCountry": c["country"],
            "CurrencyIsoCode": c["currency"],
        }
    )
    return _audit(frame, c["created"], c["created"])


def opportunities(plan: Plan, clock: datetime) -> pd.DataFrame:
    """Every opportunity created by `clock`, in the stage it has then.

    An open deal moves through the four open stages at even intervals between creation
    and close; each stage change is a modification, so SystemModstamp moves with it.
    """
    o = plan.opps[plan.opps["created"] <= clock]
    closed = (o["close_ts"] <= clock).to_numpy()
    span = (o["close_ts"] - o["created"]).to_numpy()
    elapsed = np.datetime64(clock) - o["created"].to_numpy()
    stage = np.clip((elapsed / span * 4).astype(int), 0, 3)
    stage_ts = (o["created"].to_numpy() + (span * stage) // 4).astype("datetime64[s]")
    won = o["won"].to_numpy()
    open_stages = np.array(plan.params.conventions.open_stages)
    frame = pd.DataFrame(
        {
            "Id": o["sf_id"].to_numpy(),
            "Name": o["name"].to_numpy(),
            "AccountId": plan.customers["sf_id"].to_numpy()[o["cidx"].to_numpy()],
            "StageName": np.where(
                closed, np.where(won, "Closed Won", "Closed Lost"), open_stages[stage]
            ),
            "IsClosed": closed,
            "IsWon": closed & won,
            "CloseDate": o["close_date"].to_numpy(),
            "Amount": o["amount_cents"].to_numpy() / 100,
            "CurrencyIsoCode": o["currency"].to_numpy(),
            "ContractId": np.where(closed & won, o["contract_sf_id"].to_numpy(), None),
        }
    )
    modified = np.where(closed, o["close_ts"].to_numpy().astype("datetime64[s]"), stage_ts)
    return _audit(frame, o["created"], pd.Series(modified))


def line_items(plan: Plan, clock: datetime) -> pd.DataFrame:
    o = plan.opps[plan.opps["created"] <= clock]
    li = plan.lines.merge(
        o[["oidx", "sf_id", "currency", "created"]].rename(columns={"sf_id": "opp_sf_id"}),
        on="oidx",
    )
    frame = pd.DataFrame(
        {
            "Id": li["sf_id"],
            "OpportunityId": li["opp_sf_id"],
            "ProductCode": li["role"].map(plan.params.conventions.product_codes),
            "Name": li["name"],
            "Quantity": li["qty"],
            "UnitPrice": li["unit_price"].astype(float),
            "TotalPrice": li["total"],
            "CurrencyIsoCode": li["currency"],
        }
    )
    return _audit(frame, li["created"], li["created"])


def contracts(plan: Plan, clock: datetime) -> pd.DataFrame:
    o = plan.won[plan.won["close_ts"] - CONTRACT_CREATED_BEFORE_CLOSE <= clock]
    created = o["close_ts"] - CONTRACT_CREATED_BEFORE_CLOSE
    activated = o["close_ts"] - CONTRACT_ACTIVATED_BEFORE_CLOSE
    frame = pd.DataFrame(
        {
            "Id": o["contract_sf_id"].to_numpy(),
            "AccountId": plan.customers["sf_id"].to_numpy()[o["cidx"].to_numpy()],
            "ContractNumber": o["contract_number"].to_numpy(),
            "Status": "Activated",
            "StartDate": o["start"].to_numpy(),
            "EndDate": o["end"].to_numpy(),
            "ActivatedDate": activated.to_numpy(),
        }
    )
    return _audit(frame, created, activated)
