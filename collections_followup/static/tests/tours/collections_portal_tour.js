import { registry } from "@web/core/registry";

function inDays(days) {
    const day = new Date(Date.now() + days * 86400000);
    return day.toISOString().slice(0, 10);
}

registry.category("web_tour.tours").add("collections_followup_portal_tour", {
    url: "/my/collections",
    steps: () => [
        {
            content: "The customer sees what it owes",
            trigger: ".o_collections_invoice_row:contains('days') , .o_collections_summary:contains('Overdue')",
        },
        {
            content: "A proposed plan waits for acceptance",
            trigger: ".o_collections_plan_row:contains('Waiting for your acceptance') a:contains('Review')",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The schedule is shown before signing",
            trigger: ".o_collections_schedule tbody tr:nth-child(3)",
        },
        {
            content: "Open the signature dialog",
            trigger: "a.o_collections_accept",
            run: "click",
        },
        {
            content: "The customer's name is filled in",
            trigger: ".modal .o_web_sign_name_and_signature input:value(Paula Portal)",
        },
        {
            content: "The signature is drawn from the name",
            trigger: ".modal canvas.o_web_sign_signature",
            run: "canvasNotEmpty",
        },
        {
            content: "Accept and sign",
            trigger: ".modal .o_portal_sign_submit:enabled",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The plan is in force",
            trigger: ".o_collections_plan_page .alert-success:contains('accepted and in force')",
        },
        {
            content: "Back to the account balance",
            trigger: ".breadcrumb a:contains('Account Balance')",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Give a payment date for the invoice outside the plan",
            trigger: ".o_collections_promise_card input[name=promised_date]",
            run({ anchor }) {
                anchor.value = inDays(7);
            },
        },
        {
            content: "Confirm the date",
            trigger: ".o_collections_promise_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The date is recorded",
            trigger: ".alert-success:contains('payment date is recorded')",
        },
        {
            content: "And listed",
            trigger: ".o_collections_promise:contains('by')",
        },
    ],
});
