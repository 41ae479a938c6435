import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("collections_followup_call_tour", {
    url: "/odoo/action-collections_followup.action_collections_my_worklist",
    steps: () => [
        {
            content: "My Collections lists the customer, still to contact",
            trigger: ".o_list_view .o_data_row:contains('Tour Caller Ltd'):contains('To Contact')",
        },
        {
            content: "Log a call from the line",
            trigger: ".o_list_view .o_data_row:contains('Tour Caller Ltd') button[name=action_log_call]",
            run: "click",
        },
        {
            content: "The call wizard shows the customer's number in international format",
            trigger: ".modal .o_field_widget[name=phone]:contains('+3225551234')",
        },
        {
            content: "Nobody answered",
            trigger: ".modal .o_field_widget[name=outcome] input[data-value=no_answer]",
            run: "click",
        },
        {
            content: "Say so",
            trigger: ".modal .o_field_widget[name=note] textarea",
            run: "edit Voicemail, left a message",
        },
        {
            content: "Log the call",
            trigger: ".modal-footer button[name=action_log]",
            run: "click",
        },
        {
            content: "The customer now has a call planned",
            trigger: ".o_list_view .o_data_row:contains('Tour Caller Ltd'):contains('Call Planned')",
        },
    ],
});
