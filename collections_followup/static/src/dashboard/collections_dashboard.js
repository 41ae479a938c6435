import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { deserializeDate, formatDate } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { formatFloat, formatMonetary } from "@web/views/fields/formatters";
import { useService } from "@web/core/utils/hooks";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

const TILE_LABELS = {
    dso: _t("DSO"),
    best_dso: _t("Best Possible DSO"),
    add: _t("Average Days Delinquent"),
    cei: _t("CEI"),
    share_current: _t("Current"),
    ar_overdue: _t("Overdue"),
    promise_kept_rate: _t("Promises Kept"),
    disputes_open: _t("Disputes Open"),
};

// Where a click on a tile leads: the records behind the number.
const TILE_ACTIONS = {
    dso: "collections_followup.action_collections_kpi_snapshot",
    best_dso: "collections_followup.action_collections_kpi_snapshot",
    add: "collections_followup.action_collections_kpi_snapshot",
    cei: "collections_followup.action_collections_kpi_snapshot",
    share_current: "collections_followup.action_collections_aging_report",
    ar_overdue: "collections_followup.action_collections_aging_report",
    promise_kept_rate: "collections_followup.action_collections_promise",
    disputes_open: "collections_followup.action_collections_dispute",
};

export class CollectionsDashboard extends Component {
    static template = "collections_followup.CollectionsDashboard";
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null });
        onWillStart(async () => {
            this.state.data = await this.orm.call("collections.dashboard", "get_data", []);
        });
    }

    label(tile) {
        return TILE_LABELS[tile.key] || tile.key;
    }

    money(amount, options = {}) {
        const currency = this.state.data.currency;
        const number = formatFloat(amount, { digits: [16, currency.digits], ...options });
        return currency.position === "before" ? `${currency.symbol} ${number}` : `${number} ${currency.symbol}`;
    }

    /** An amount in a few characters ($ 229.1M): a label above a bar of the chart, as narrow as the bar. */
    moneyShort(amount) {
        return this.money(amount, { humanReadable: true, decimals: 1 });
    }

    value(tile) {
        if (tile.value === null) {
            return "—";
        }
        if (tile.unit === "amount") {
            return this.money(tile.value);
        }
        if (tile.unit === "count") {
            return String(tile.value);
        }
        return `${formatFloat(tile.value, { digits: [16, 1] })}${tile.unit === "%" ? " %" : ""}`;
    }

    trendClass(tile) {
        if (!tile.trend) {
            return "text-muted";
        }
        const better = (tile.trend < 0) === (tile.better === "down");
        return better ? "text-success" : "text-danger";
    }

    trendText(tile) {
        if (tile.value === null) {
            return _t("none in the period");
        }
        if (!tile.trend) {
            return _t("no change");
        }
        const sign = tile.trend > 0 ? "+" : "";
        const number = tile.unit === "amount" ? this.money(tile.trend) : formatFloat(tile.trend, { digits: [16, 1] });
        return `${sign}${number}`;
    }

    agingWidth(bucket) {
        const max = Math.max(...this.state.data.aging.map((row) => row.amount), 1);
        return `${Math.max((bucket.amount / max) * 100, 0)}%`;
    }

    forecastMax() {
        // The band sets the scale: what the due dates alone put in one week (everything overdue, this week) may
        // be far above it, and is marked at the top with its amount.
        const weeks = this.state.data.forecast.weeks;
        return Math.max(...weeks.map((week) => week.high), 1) * 1.1;
    }

    forecastStyle(bottom, top) {
        const max = this.forecastMax();
        const low = Math.min(bottom, max);
        const high = Math.min(top, max);
        return `bottom: ${(low / max) * 100}%; height: ${Math.max(((high - low) / max) * 100, 0.5)}%;`;
    }

    offScale(amount) {
        return amount > this.forecastMax();
    }

    forecastTotal(key) {
        return this.money(this.state.data.forecast.weeks.reduce((total, week) => total + week[key], 0));
    }

    monthLabel(day) {
        return formatDate(deserializeDate(day), { format: "MMM" });
    }

    weekLabel(week) {
        return formatDate(deserializeDate(week), { format: "MMM d" });
    }

    accuracyMax() {
        const lines = this.state.data.forecast.accuracy.lines;
        return Math.max(...lines.map((line) => Math.max(line.predicted, line.actual, line.contractual)), 1);
    }

    accuracyHeight(amount) {
        return `height: ${Math.max((amount / this.accuracyMax()) * 100, 0.5)}%;`;
    }

    openForecast() {
        this.action.doAction("collections_followup.action_collections_cash_forecast");
    }

    openAccuracy() {
        this.action.doAction("collections_followup.action_collections_forecast_accuracy");
    }

    openTile(tile) {
        this.action.doAction(TILE_ACTIONS[tile.key]);
    }

    openBucket(bucket) {
        this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("Receivables Aging: %s", bucket.label),
            res_model: "collections.aging.report",
            views: [[false, "list"], [false, "pivot"]],
            domain: [["bucket", "=", bucket.bucket]],
        });
    }

    openCustomer(customer) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "res.partner",
            res_id: customer.id,
            views: [[false, "form"]],
        });
    }

    openCollector(collector) {
        this.action.doAction({
            type: "ir.actions.act_window",
            name: collector.name,
            res_model: "res.partner",
            views: [[false, "list"], [false, "form"]],
            domain: [["parent_id", "=", false], ["collections_user_id", "=", collector.id || false]],
            context: { search_default_collections_followed: 1 },
        });
    }
}

registry.category("actions").add("collections_followup.dashboard", CollectionsDashboard);
