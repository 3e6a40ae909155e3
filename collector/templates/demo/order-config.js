// DataCue's 2021 configuration object; the tracker reads it and sends the matching order event.
window.datacueConfig = {
  api_key: '{{ key }}',
  user_id: null,
  page_type: 'order confirmation',
  order_id: 'o1',
  order_details: {
    order_status: 'completed',
    cart: [{product_id: {{ product.product_id|tojson }}, variant_id: {{ product.variant_id|tojson }}, unit_price: {{ product.price|tojson }}, quantity: 1, currency: 'USD'}]
  }
};
