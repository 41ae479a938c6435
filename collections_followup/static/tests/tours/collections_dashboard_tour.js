import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("collections_followup_dashboard_tour", {
    url: "/odoo/action-collections_followup.action_collections_dashboard",
    steps: () => [
        {
            content: "The DSO tile shows a number of days",
            trigger: ".o_collections_tile[data-kpi=dso] .o_collections_tile_value:contains('72.0')",
        },
        {
            content: "The overdue amount is there",
            trigger: ".o_collections_tile[data-kpi=ar_overdue] .o_collections_tile_value:contains('2,000.00')",
        },
        {
            content: "The aging table has the six buckets",
            trigger: ".o_collections_aging tr:nth-child(6)",
        },
        {
            content: "The collector's line",
            trigger: ".o_collections_collectors td:contains('Colin Collector')",
        },
        {
            content: "Open the largest overdue customer",
            trigger: ".o_collections_top_customers td:contains('Dashboard Customer Ltd')",
            run: "click",
        },
        {
            content: "Its form opens",
            trigger: ".o_form_view .o_field_widget[name=name]:contains('Dashboard Customer Ltd'), .o_form_view .o_field_widget[name=name] input:value('Dashboard Customer Ltd')",
        },
    ],
});
