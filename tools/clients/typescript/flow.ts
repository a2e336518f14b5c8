// The documents' flow with a typed TypeScript client: openapi-fetch over the types that
// openapi-typescript made from openapi.yaml (generate.mjs into generated/api.ts), against one
// base URL.
//
// Usage: node build/flow.js BASE_URL API_KEY TOKEN PHOTO.jpg
//
// List events near Lille, create one, read it back, subscribe a user, upload a photo and put
// it on one of the caller's tracking activities. Every call is type-checked by `tsc` against
// the spec; every answer is checked here, and the first surprise stops the script (exit 1).
import { readFile } from "node:fs/promises";

import createClient from "openapi-fetch";

import type { components, paths } from "./generated/api.js";

type EventCreate = components["schemas"]["EventCreate"];

const LILLE = { latitude: 50.6292, longitude: 3.0573 } as const;
/** Jane D, the user of the documents' subscription example. */
const JANE = "4c68165b-3869-4c22-8098-a4a429c97509";

function check(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new Error(message);
  }
}

/** What went wrong with a call: its status and the API's error body. */
function failure(step: string, result: { response: Response; error?: unknown }): string {
  return `${step}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`;
}

const [baseUrl, apiKey, token, photoPath] = process.argv.slice(2);
if (!baseUrl || !apiKey || !token || !photoPath) {
  console.error("usage: node build/flow.js BASE_URL API_KEY TOKEN PHOTO.jpg");
  process.exit(2);
}

const client = createClient<paths>({
  baseUrl,
  headers: { "X-Api-Key": apiKey, Authorization: `Bearer ${token}` },
});

const near = await client.GET("/v1/events", {
  params: {
    query: { ...LILLE, distance: 20, "level[]": [5, 10] },
    header: { "X-Desired-Limit": 5 },
  },
});
check(near.data, failure("listEvents", near));
check(near.data.data.length > 0, "listEvents: no event within 20 km of Lille");
console.log(`listEvents: ${near.data.meta.total} events within 20 km of Lille, ` +
  `${near.data.data.length} on page 1, first "${near.data.data[0]?.title}"`);

const body: EventCreate = {
  title: "Footing du dimanche (TypeScript client)",
  description: "Ten kilometres along the Deule, all paces welcome.",
  sport_id: 121,
  start_date: "2027-03-07T09:00:00Z",
  end_date: "2027-03-07T10:30:00Z",
  ...LILLE,
  level: [5, 10],
  age_min: 16,
  age_max: 99,
  slots: 12,
};
const created = await client.POST("/v1/events", { body });
check(created.data, failure("createEvent", created));
check(created.response.status === 201, `createEvent: HTTP ${created.response.status}`);
const event = created.data.data;
check(event.title === body.title && event.slots === 12, "createEvent: not the event sent");
console.log(`createEvent: event ${event.id} "${event.title}", ${event.status}, ` +
  `${event.slots} places`);

const read = await client.GET("/v1/events/{id}", { params: { path: { id: event.id } } });
check(read.data, failure("getEvent", read));
check(read.data.data.start_date === body.start_date, "getEvent: another start date");
console.log(`getEvent: event ${read.data.data.id} starts ${read.data.data.start_date}`);

const subscribed = await client.POST("/v1/events/{id}/subscribers", {
  params: { path: { id: event.id } },
  body: { user: JANE },
});
check(subscribed.data?.data === true, failure("addSubscriber", subscribed));
const subscribers = await client.GET("/v1/events/{id}/subscribers", {
  params: { path: { id: event.id } },
});
check(subscribers.data, failure("listSubscribers", subscribers));
const jane = subscribers.data.data.find((subscriber) => subscriber.id === JANE);
check(jane, "listSubscribers: the new subscriber is not listed");
console.log(`addSubscriber: ${jane.name} subscribed to event ${event.id} ` +
  `(${subscribers.data.meta.total} subscriber)`);

const photo = new Blob([await readFile(photoPath)], { type: "image/jpeg" });
const uploaded = await client.POST("/v2/upload", {
  body: { file: photo },
  bodySerializer(form) {
    const data = new FormData();
    data.append("file", form.file, "photo.jpg");
    return data;
  },
});
check(uploaded.data, failure("uploadFile", uploaded));
const url = uploaded.data.url;
console.log(`uploadFile: ${photo.size} bytes stored at ${url}`);

const activities = await client.GET("/v2/activities");
check(activities.data, failure("listActivities", activities));
const activity = activities.data[0];
check(activity, "listActivities: the caller has no activity");
const updated = await client.PUT("/v2/activities/{token}", {
  params: { path: { token: activity.id } },
  body: { images: [...activity.images, url] },
});
check(updated.data, failure("updateActivity", updated));
const readBack = await client.GET("/v2/activities/{token}", {
  params: { path: { token: activity.id } },
});
check(readBack.data, failure("getActivity", readBack));
check(readBack.data.images.at(-1) === url, "getActivity: the photo is not the last image");
console.log(`updateActivity: activity ${activity.id} now has ` +
  `${readBack.data.images.length} images, the photo last`);
