import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("collections_followup_collector_tour", {
    url: "/odoo/action-collections_followup.action_collections_worklist",
    steps: () => [
        {
            content: "The worklist shows the overdue customer",
            trigger: ".o_list_view .o_data_row td[name=name]:contains('Tour Customer Ltd')",
            run: "click",
        },
        {
            content: "Open the Collections tab of the customer",
            trigger: ".o_notebook .nav-link:contains('Collections')",
            run: "click",
        },
        {
            content: "The customer needs action today",
            trigger: ".o_field_widget[name=collections_status]:contains('Action Due')",
        },
        {
            content: "Preview the follow-up",
            trigger: "button[name=action_collections_send].btn-primary",
            run: "click",
        },
        {
            content: "The preview shows the level and the invoice table",
            trigger: ".modal .o_field_widget[name=level_id] input:value('First reminder')",
        },
        {
            content: "The preview is the email that will be sent",
            trigger: ".modal .o_field_widget[name=body]:contains('Amount Due')",
        },
        {
            content: "Send it",
            trigger: ".modal-footer button[name=action_send]",
            run: "click",
        },
        {
            content: "The result says it was sent",
            trigger: ".modal .o_field_widget[name=result_summary]:contains('1 sent, 0 failed, 0 skipped.')",
        },
        {
            content: "Close the result",
            trigger: ".modal-footer button:contains('Close')",
            run: "click",
        },
        {
            content: "Open the customer's follow-up log",
            trigger: "button[name=action_collections_open_actions]",
            run: "click",
        },
        {
            content: "The email sent by hand is in the log",
            trigger: ".o_list_view .o_data_row:contains('Email'):contains('Manual'):contains('Done')",
        },
    ],
});
