import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("collections_sale_blocked_tour", {
    steps: () => [
        {
            content: "The order shows the customer's credit hold",
            trigger: ".o_collections_credit_banner.alert-danger:contains('Three invoices over 60 days')",
        },
        {
            content: "Try to confirm",
            trigger: "button[name=action_confirm]:not(:disabled)",
            run: "click",
        },
        {
            content: "Refused, with the reason and who can release it",
            trigger: ".modal:contains('on credit hold'):contains('Collections Manager')",
        },
        {
            content: "Close the message",
            trigger: ".modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The order is still a quotation",
            trigger: ".o_statusbar_status button[aria-checked=true]:contains('Quotation')",
        },
    ],
});

registry.category("web_tour.tours").add("collections_sale_customer_banner_tour", {
    steps: () => [
        {
            content: "The customer form shows the hold to the salesperson",
            trigger: ".o_collections_credit_banner.alert-danger:contains('On credit hold'):contains('Three invoices')",
        },
        {
            content: "The salesperson cannot put it on hold or release it",
            trigger: ".o_form_view:not(:has(button[name=action_collections_release]))",
        },
    ],
});

registry.category("web_tour.tours").add("collections_sale_override_tour", {
    steps: () => [
        {
            content: "The manager overrides the block for this order",
            trigger: "button[name=action_collections_override]",
            run: "click",
        },
        {
            content: "Give the reason",
            trigger: ".modal .o_field_widget[name=reason] input",
            run: "edit Paid in advance by wire",
        },
        {
            content: "Override",
            trigger: ".modal-footer button[name=action_override]",
            run: "click",
        },
        {
            content: "Wait for the dialog to close",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "Confirm the order",
            trigger: "button[name=action_confirm]:not(:disabled)",
            run: "click",
        },
        {
            content: "The order is confirmed",
            trigger: ".o_statusbar_status button[aria-checked=true]:contains('Sales Order')",
        },
    ],
});
